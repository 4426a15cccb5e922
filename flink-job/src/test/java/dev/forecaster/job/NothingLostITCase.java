package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Supplier;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What production loses when the defaults are wrong: old days under a broker's retention, a record
 * that cannot be a dead letter, a day far in the future (a job started again: {@link
 * RestoreITCase}). The job here has no restart strategy: a record that made it restart fails the
 * test.
 */
class NothingLostITCase {

  @RegisterExtension
  static final MiniClusterExtension FLINK =
      JobFixture.miniCluster(Map.of("restart-strategy.type", "none"));

  private static final LocalDate FROM = LocalDate.of(2013, 6, 1);
  private static final LocalDate UNTIL = LocalDate.of(2013, 9, 1); // 92 days
  private static final int WINDOW = 5;
  private static final long DAY_MS = 86_400_000L;

  @Test
  void oldDaysKeepTheirHistoryAndOutputThroughARetentionCheck() throws Exception {
    // a stock broker keeps records a week by their timestamp; here it checks every half second
    try (JobFixture kafka =
        new JobFixture("retention", Map.of("log.retention.check.interval.ms", "500"))) {
      kafka.publishModel(2, 4);
      JobClient job =
          ForecastJob.run(
              StreamExecutionEnvironment.getExecutionEnvironment(),
              kafka.config(Map.of()),
              "retention");
      try {
        kafka.awaitServing(1);
        // a backfill that keeps each reading's day as its record timestamp, as connectors do
        List<Reading> seattle = JobFixture.seattle(FROM, UNTIL);
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (Reading r : seattle) {
          records.add(
              new ProducerRecord<>(
                  kafka.topic("readings"),
                  null,
                  r.getDay().toEpochDay() * DAY_MS,
                  r.getSeriesId().getBytes(StandardCharsets.UTF_8),
                  Codecs.READING.encode(r)));
        }
        kafka.produce(records);
        int expected = seattle.size() - WINDOW + 1;
        assertThat(kafka.forecastsOf("Seattle", expected, Duration.ofSeconds(90)))
            .hasSize(expected);
        assertThat(seattleEvaluations(kafka, expected - 1)).hasSize(expected - 1);
        Map<String, Long> before = sizes(kafka);

        awaitTwoRetentionChecks(kafka);

        assertThat(sizes(kafka)).isEqualTo(before);
        assertThat(startOffsets(kafka, "readings", "forecasts", "evaluations"))
            .as("nothing deleted from the start of the topics")
            .containsOnly(0L);
        assertThat(kafka.readCommittedNow(kafka.topic("forecasts"), Codecs.FORECAST))
            .filteredOn(f -> f.getSeriesId().equals("Seattle"))
            .hasSize(expected);
      } finally {
        job.cancel().get();
      }
    }
  }

  @Test
  void aPoisonRecordAndAFarFutureDayAreDeadLettersAndTheJobNeverRestarts() throws Exception {
    try (JobFixture kafka = new JobFixture("poison")) {
      kafka.publishModel(2, 4);
      JobClient job =
          ForecastJob.run(
              StreamExecutionEnvironment.getExecutionEnvironment(),
              kafka.config(Map.of()),
              "poison");
      try {
        kafka.awaitServing(1);
        List<Reading> seattle = JobFixture.seattle(FROM, UNTIL);
        byte[] poison = new byte[1_048_400]; // just under the broker's 1 MiB limit
        new Random(5).nextBytes(poison);
        Reading farFuture =
            Reading.newBuilder(seattle.get(0)).setDay(LocalDate.of(9999, 12, 31)).build();
        String t = kafka.topic("readings");
        byte[] key = "Seattle".getBytes(StandardCharsets.UTF_8);
        kafka.produce(
            List.of(
                new ProducerRecord<>(t, key, poison),
                new ProducerRecord<>(t, key, Codecs.READING.encode(farFuture))));
        kafka.produceReadings(seattle);

        int expected = seattle.size() - WINDOW + 1;
        List<Forecast> forecasts = kafka.forecastsOf("Seattle", expected, Duration.ofSeconds(90));
        List<DeadLetter> dead = kafka.deadLetters(2);

        assertThat(forecasts).extracting(Forecast::getForecastId).doesNotHaveDuplicates();
        assertThat(forecasts).hasSize(expected); // the series is not locked out by 9999-12-31
        assertThat(dead).hasSize(2);
        DeadLetter big = dead.stream().filter(DeadLetter::getTruncated).findFirst().orElseThrow();
        assertThat(big.getCategory()).isEqualTo("undecodable");
        assertThat(big.getPayloadSize()).isEqualTo(poison.length);
        assertThat(big.getPayloadSha256()).isEqualTo(ModelArtifact.sha256(poison));
        DeadLetter future = dead.stream().filter(d -> !d.getTruncated()).findFirst().orElseThrow();
        assertThat(future.getCategory()).isEqualTo("invalid");
        assertThat(future.getReason()).contains("9999-12-31");
        // no restart strategy: had either record failed the job, it would not be running
        assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
      } finally {
        job.cancel().get();
      }
    }
  }

  private static List<Evaluation> seattleEvaluations(JobFixture kafka, int expected)
      throws Exception {
    return kafka
        .readUntil(
            kafka.topic("evaluations"),
            Codecs.EVALUATION,
            e -> e.stream().filter(x -> x.getSeriesId().equals("Seattle")).count() >= expected,
            Duration.ofSeconds(60))
        .stream()
        .filter(e -> e.getSeriesId().equals("Seattle"))
        .toList();
  }

  /**
   * Waits for the broker's retention check to run twice over: a canary topic that keeps records a
   * second gets an old record, which the next check deletes (its start offset moves); a second
   * canary record is deleted by a check that started after the first was seen, so it went over
   * every topic.
   */
  private static void awaitTwoRetentionChecks(JobFixture kafka) throws Exception {
    String canary = kafka.topic("canary");
    kafka.broker.createTopic(canary, 1, Map.of("retention.ms", "1000"));
    long old = System.currentTimeMillis() - 3_600_000L;
    for (int n = 1; n <= 2; n++) {
      kafka.produce(List.of(new ProducerRecord<>(canary, null, old, null, new byte[] {1})));
      int deleted = n;
      await(
          () -> startOffsets(kafka, "canary").get(0) >= deleted,
          Duration.ofSeconds(60),
          "retention check " + n);
    }
  }

  private static void await(Supplier<Boolean> done, Duration timeout, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + what + " within " + timeout);
      }
      Thread.sleep(100); // polling the broker for the signal, not waiting in its place
    }
  }

  /** Records on each named topic (end offset minus start offset, summed over partitions). */
  private static Map<String, Long> sizes(JobFixture kafka) {
    Map<String, Long> sizes = new java.util.TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
      for (String name : List.of("readings", "forecasts", "evaluations", "readings.dlq")) {
        List<TopicPartition> parts = partitions(c, kafka.topic(name));
        Map<TopicPartition, Long> end = c.endOffsets(parts);
        Map<TopicPartition, Long> begin = c.beginningOffsets(parts);
        sizes.put(name, parts.stream().mapToLong(p -> end.get(p) - begin.get(p)).sum());
      }
    }
    return sizes;
  }

  private static List<Long> startOffsets(JobFixture kafka, String... names) {
    List<Long> offsets = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
      for (String name : names) {
        offsets.addAll(c.beginningOffsets(partitions(c, kafka.topic(name))).values());
      }
    }
    return offsets;
  }

  private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c, String topic) {
    return c.partitionsFor(topic).stream()
        .map(i -> new TopicPartition(topic, i.partition()))
        .toList();
  }

  private static KafkaConsumer<byte[], byte[]> consumer(JobFixture kafka) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.broker.bootstrapServers());
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
