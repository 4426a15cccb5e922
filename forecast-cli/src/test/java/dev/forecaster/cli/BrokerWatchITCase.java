package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.kafka.LocalKafkaBroker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.CommonClientConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broker lost and back: one line each, however long it is away. */
class BrokerWatchITCase {

  @TempDir Path data;

  @Test
  void aLostBrokerIsOneLineAndItsReturnAnother() throws Exception {
    LocalKafkaBroker broker = LocalKafkaBroker.start(data, 0);
    int port = broker.port();
    StringWriter said = new StringWriter();
    try (BrokerWatch watch =
        BrokerWatch.start(
            Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
            new PrintWriter(said, true))) {
      broker.close();
      await(said, s -> s.contains("unreachable"));
      broker = LocalKafkaBroker.start(data, port); // the same data, the same port
      await(said, s -> s.contains("is back after"));
    } finally {
      broker.close();
    }

    assertThat(said.toString().lines())
        .hasSize(2)
        .satisfiesExactly(
            lost -> assertThat(lost).contains("Kafka at 127.0.0.1:" + port + " is unreachable"),
            back -> assertThat(back).contains("Kafka at 127.0.0.1:" + port + " is back after"));
  }

  private static void await(StringWriter said, Predicate<String> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (!done.test(said.toString())) {
      assertThat(System.nanoTime()).as("waiting for the watch: %s", said).isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
