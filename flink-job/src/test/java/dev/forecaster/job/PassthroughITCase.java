package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The benchmarks' floor: the readings through the engine alone, decoded and written back once each,
 * exactly once, with the job's settings.
 */
class PassthroughITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = JobFixture.miniCluster(Map.of());

  @Test
  void theBareCopyWritesEveryValidReadingOnceAndEnds() throws Exception {
    try (JobFixture kafka = new JobFixture("copy")) {
      JobConfig config = kafka.config(Map.of("topic.forecasts", kafka.topic("copy")));
      ForecastJob.ensureTopics(config);
      List<Reading> readings =
          JobFixture.seattle(LocalDate.of(2013, 6, 1), LocalDate.of(2013, 7, 1));
      kafka.produceReadings(readings);
      kafka.produce(
          List.of(
              new ProducerRecord<>(
                  kafka.topic("readings"),
                  "Seattle".getBytes(StandardCharsets.UTF_8),
                  "not avro".getBytes(StandardCharsets.UTF_8))));

      JobClient job =
          ForecastJob.runPassthrough(
              StreamExecutionEnvironment.getExecutionEnvironment(),
              config,
              config.forecastsTopic(),
              "copy");
      job.getJobExecutionResult().get(120, TimeUnit.SECONDS); // bounded: it ends by itself

      assertThat(kafka.readCommittedNow(kafka.topic("copy"), Codecs.READING))
          .containsExactlyInAnyOrderElementsOf(readings);
    }
  }
}
