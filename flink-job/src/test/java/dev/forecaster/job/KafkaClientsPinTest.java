package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;

/**
 * The Kafka connector's exactly-once sink calls a kafka-clients internal that 4.3 removed: the job
 * must run with exactly the pinned clients (the build's enforcer rule keeps it so).
 */
class KafkaClientsPinTest {

  @Test
  void theJobRunsWithKafkaClients420BesideTheConnector() {
    assertThat(AppInfoParser.getVersion()).isEqualTo("4.2.0");
    assertThat(KafkaSink.class.getProtectionDomain().getCodeSource().getLocation().getPath())
        .contains("flink-connector-kafka-5.0.0-2.2");
  }
}
