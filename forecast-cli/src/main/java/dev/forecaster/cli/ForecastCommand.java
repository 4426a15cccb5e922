package dev.forecaster.cli;

import dev.forecaster.schemas.TrustedPackages;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code forecast}: the one command of the project; each part is a subcommand. */
@Command(
    name = "forecast",
    mixinStandardHelpOptions = true,
    versionProvider = ForecastCommand.Version.class,
    description =
        "Streaming forecaster: Kafka readings, a Flink job, GRU/LSTM scoring through DJL.",
    subcommands = {
      DemoCommand.class,
      ReadingsCommand.class,
      ReplayCommand.class,
      TrainCommand.class,
      TrainerCommand.class,
      JobCommand.class,
      TailCommand.class,
      ReportCommand.class,
      GenerateCommand.class,
      TopicsCommand.class,
      BrokerCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Benchmarks: ./forecast bench --help (the forecast-bench module, a jar of its own)."
    })
public final class ForecastCommand {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line with this project's settings, for main and for tests. */
  public static CommandLine commandLine() {
    TrustedPackages.ensureContractsTrusted();
    return new CommandLine(new ForecastCommand()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = ForecastCommand.class.getPackage().getImplementationVersion();
      return new String[] {"forecast " + (version == null ? "(development build)" : version)};
    }
  }
}
