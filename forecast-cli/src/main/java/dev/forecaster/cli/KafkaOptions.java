package dev.forecaster.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.Option;

/**
 * How to reach Kafka, shared by every command that does: the servers and pass-through client
 * settings.
 */
public final class KafkaOptions {

  /** How long a command waits for a broker before it says that none answered. */
  static final Duration CHECK_TIMEOUT = Duration.ofSeconds(20);

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:9092",
      description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
  String bootstrapServers;

  @Option(
      names = "--kafka-property",
      paramLabel = "KEY=VALUE",
      description =
          "A Kafka client setting passed through, e.g. security.protocol=SASL_SSL; repeatable.")
  Map<String, String> properties = new LinkedHashMap<>();

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** Client properties for admin, consumer and producer alike. */
  public Map<String, Object> clientProperties() {
    Map<String, Object> p = new LinkedHashMap<>(properties);
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return p;
  }
}
