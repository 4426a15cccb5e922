package dev.forecaster.cli;

import dev.forecaster.kafka.LocalKafkaBroker;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code forecast broker}: a single-node Kafka broker on 127.0.0.1 for people who have none. */
@Command(
    name = "broker",
    mixinStandardHelpOptions = true,
    description =
        "Runs a single-node Kafka broker (KRaft) on 127.0.0.1 until Ctrl-C, which stops it "
            + "(and removes its data unless --data-dir was given).")
final class BrokerCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--port",
      defaultValue = "9092",
      description = "Client port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Keep the broker's data here across runs (default: a temporary folder, removed at the"
              + " end).")
  Path dataDir;

  @Option(
      names = "--broker-property",
      paramLabel = "KEY=VALUE",
      description =
          "A broker setting that replaces the default, e.g. log.retention.check.interval.ms=1000;"
              + " repeatable.")
  Map<String, String> brokerProperties = new LinkedHashMap<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    LocalKafkaBroker broker =
        LocalKafkaBroker.builder()
            .dataDir(dataDir)
            .port(port)
            .brokerProperties(brokerProperties)
            .start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  broker.close();
                  stopped.countDown();
                },
                "broker-stop"));
    out.printf(
        "Kafka broker on %s (data in %s); Ctrl-C stops it%n",
        broker.bootstrapServers(), broker.dataDir());
    out.flush();
    stopped.await();
    return 0;
  }
}
