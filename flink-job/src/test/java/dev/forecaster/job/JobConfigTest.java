package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.forecaster.model.WindowPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {

  @Test
  void defaultsAreTheOptionsDefaults() {
    JobConfig d = JobConfig.defaultsOnly();
    assertThat(d.bootstrapServers()).isEqualTo(JobOptions.BOOTSTRAP_SERVERS.defaultValue());
    assertThat(d.windowLength()).isEqualTo(WindowPolicy.DEFAULT_WINDOW_LENGTH);
    assertThat(d.recentReadings()).isEqualTo(WindowPolicy.DEFAULT_WINDOW_LENGTH);
    assertThat(d.windowPolicy()).isEqualTo(WindowPolicy.DEFAULT);
    assertThat(d.delivery()).isEqualTo(JobOptions.Delivery.EXACTLY_ONCE);
    assertThat(d.transactionTimeoutMs()).isEqualTo(600_000L);
    assertThat(d.maxPendingDays()).isEqualTo(60);
    assertThat(d.requiredFeatures()).isEmpty();
  }

  @Test
  void valuesAreTypedAndEnumsReadAsSettingsWriteThem() {
    JobConfig c =
        JobConfig.of(
            Map.of(
                "delivery.guarantee", "AT-LEAST-ONCE",
                "gap.policy", "carry-forward",
                "device", "gpu",
                "checkpoint.interval.ms", " 2500 ",
                "scoring.enabled", "false",
                "readings.required-features", "temp_max, wind,,",
                "kafka.security.protocol", "SASL_SSL"));
    assertThat(c.delivery()).isEqualTo(JobOptions.Delivery.AT_LEAST_ONCE);
    assertThat(c.windowPolicy().gapPolicy()).isEqualTo(WindowPolicy.GapPolicy.CARRY_FORWARD);
    assertThat(c.device()).isEqualTo(JobOptions.Device.GPU);
    assertThat(c.checkpointIntervalMs()).isEqualTo(2500L);
    assertThat(c.scoringEnabled()).isFalse();
    assertThat(c.requiredFeatures()).containsExactly("temp_max", "wind");
    Properties kafka = c.kafkaClientProperties();
    assertThat(kafka)
        .containsEntry("security.protocol", "SASL_SSL")
        .doesNotContainKey("bootstrap.servers");
    assertThat(c.kafkaClientMap()).containsEntry("bootstrap.servers", "127.0.0.1:9092");
  }

  @Test
  void aWholeNumberWithAUnitNamesItsKeyAndWhatItExpects() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("checkpoint.interval.ms", "5s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("job setting checkpoint.interval.ms: expected milliseconds ≥ 10, got '5s'");
  }

  @Test
  void anIntOutOfRangeNamesItsKey() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("window.length", "1")))
        .hasMessage("job setting window.length: expected a whole number from 2 to 65536, got '1'");
    // longer windows of the most features could be checkpointed and never restored
    assertThatThrownBy(() -> JobConfig.of(Map.of("window.length", "65537")))
        .hasMessageContaining("from 2 to 65536");
    assertThat(JobConfig.of(Map.of("window.length", "65536")).windowLength()).isEqualTo(65536);
    assertThatThrownBy(() -> JobConfig.of(Map.of("parallelism", "two")))
        .hasMessage("job setting parallelism: expected a whole number ≥ 1, got 'two'");
  }

  @Test
  void aBooleanThatIsNotOneNamesItsKey() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("scoring.enabled", "yes")))
        .hasMessage("job setting scoring.enabled: expected true or false, got 'yes'");
  }

  @Test
  void anUnknownEnumValueListsTheKnownOnes() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("delivery.guarantee", "twice")))
        .hasMessage(
            "job setting delivery.guarantee: expected exactly-once, at-least-once, got 'twice'");
    assertThatThrownBy(() -> JobConfig.of(Map.of("gap.policy", "interpolate")))
        .hasMessage("job setting gap.policy: expected reset, carry-forward, got 'interpolate'");
  }

  @Test
  void aBlankTextThatMustNotBeNamesItsKey() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("bootstrap.servers", " ")))
        .hasMessage("job setting bootstrap.servers: expected host:port[,host:port...], got ''");
  }

  @Test
  void everyKeyWithABadValueOfItsTypeIsRefusedNamingTheKey() {
    for (JobOptions.Rule<?> rule : JobOptions.RULES) {
      String bad = badValue(rule.option());
      if (bad == null) {
        continue; // free text: no value is wrong
      }
      String key = rule.option().key();
      assertThatThrownBy(() -> JobConfig.of(Map.of(key, bad)))
          .as(key + "=" + bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("job setting " + key + ": expected " + rule.expected());
    }
  }

  /** A value the option's type refuses, or null for text that any value fits. */
  private static String badValue(ConfigOption<?> option) {
    Object d = option.defaultValue();
    if (d instanceof Integer || d instanceof Long) {
      return "12 units";
    }
    if (d instanceof Boolean) {
      return "maybe";
    }
    if (d instanceof Enum<?>) {
      return "none-of-these";
    }
    if (option.key().equals("state.backend")) {
      return "memory"; // Flink 1's name, gone
    }
    return List.of("checkpoint.dir", "model.name", "readings.required-features")
            .contains(option.key())
        ? null
        : "";
  }

  @Test
  void anUnknownKeyIsAnErrorListingTheKnownOnes() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("batch.sise", "64")))
        .hasMessageContaining("unknown job setting 'batch.sise'")
        .hasMessageContaining("batch.size")
        .hasMessageContaining("kafka.*");
  }

  @Test
  void watermarkSettingsAreGoneAndSaySo() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("watermark.idleness.ms", "2000")))
        .hasMessageContaining("'watermark.idleness.ms' is gone")
        .hasMessageContaining("state.ttl.days");
  }

  @Test
  void aPropertiesFileThenOverrides(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("job.properties");
    Files.writeString(file, "batch.size=64\nparallelism=3\n");

    JobConfig c = JobConfig.load(file, Map.of("parallelism", "4"));

    assertThat(c.batchSize()).isEqualTo(64);
    assertThat(c.parallelism()).isEqualTo(4);
    assertThat(c.with("batch.size", "32").batchSize()).isEqualTo(32);
  }
}
