package dev.forecaster.cli;

import dev.forecaster.model.ModelArtifactException;
import dev.forecaster.schemas.TrustedPackages;
import dev.forecaster.schemas.csv.BadRowException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.DateTimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.KafkaException;
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
    return new CommandLine(new ForecastCommand())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler(new UserErrors());
  }

  /**
   * What a command that fails prints: one line naming what was tried and what to do, exit code 1.
   * The stack trace only with {@code FORECAST_DEBUG=1} (or {@code -Dforecast.debug=true}), or for
   * an error that is the program's own (a bug: please report it).
   */
  static final class UserErrors implements CommandLine.IExecutionExceptionHandler {

    /** Exit code of a command that failed (2 is picocli's for a usage error). */
    static final int FAILED = 1;

    @Override
    public int handleExecutionException(
        Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
      PrintWriter err = cli.getErr();
      boolean debug =
          "1".equals(System.getenv("FORECAST_DEBUG")) || Boolean.getBoolean("forecast.debug");
      if (isUsers(e)) {
        err.println(cli.getCommandName() + ": " + message(e));
        if (debug) {
          e.printStackTrace(err);
        }
      } else {
        err.println(
            cli.getCommandName()
                + ": unexpected error (a bug; please report it with this trace): "
                + message(e));
        e.printStackTrace(err);
      }
      err.flush();
      return FAILED;
    }

    /**
     * Errors of input, configuration or environment: bad files, values and flags, a broker that
     * does not answer, a missing topic, a denied request.
     */
    static boolean isUsers(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof IllegalArgumentException
            || t instanceof IllegalStateException
            || t instanceof IOException
            || t instanceof UncheckedIOException
            || t instanceof KafkaException
            || t instanceof ModelArtifactException
            || t instanceof BadRowException
            || t instanceof DateTimeException
            || t instanceof TimeoutException) {
          return true;
        }
      }
      return false;
    }

    /** The message of the first exception that is not a mere wrapper of another. */
    static String message(Throwable e) {
      Throwable t = e;
      while ((t instanceof ExecutionException
              || t instanceof CompletionException
              || t.getMessage() == null
              || t.getMessage().equals(String.valueOf(t.getCause())))
          && t.getCause() != null
          && t.getCause() != t) {
        t = t.getCause();
      }
      return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = ForecastCommand.class.getPackage().getImplementationVersion();
      return new String[] {"forecast " + (version == null ? "(development build)" : version)};
    }
  }
}
