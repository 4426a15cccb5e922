package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole job on Flink's mini cluster against a real broker and a real trained model. */
class ForecastJobITCase {

  @RegisterExtension
  static final MiniClusterExtension FLINK =
      JobFixture.miniCluster(
          Map.of(
              "restart-strategy.type", "fixed-delay",
              "restart-strategy.fixed-delay.attempts", "20",
              "restart-strategy.fixed-delay.delay", "500 ms"));

  private static final LocalDate FROM = LocalDate.of(2013, 6, 1);
  private static final LocalDate UNTIL = LocalDate.of(2013, 9, 1); // 92 days
  private static final int WINDOW = 5;

  @Test
  void forecastsEqualTheModelsOfflinePredictionsAndGarbageOnlyAddsDeadLetters() throws Exception {
    try (JobFixture kafka = new JobFixture("offline")) {
      ModelUpdate model = kafka.publishModel(10, 4);
      JobClient job =
          ForecastJob.run(
              StreamExecutionEnvironment.getExecutionEnvironment(),
              kafka.config(Map.of()),
              "offline");
      try {
        kafka.awaitServing(model.getVersion());

        List<Reading> seattle = JobFixture.seattle(FROM, UNTIL);
        List<ProducerRecord<byte[], byte[]>> mixed = new ArrayList<>();
        String t = kafka.topic("readings");
        byte[] key = "Seattle".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < seattle.size(); i++) {
          mixed.add(new ProducerRecord<>(t, key, Codecs.READING.encode(seattle.get(i))));
          if (i % 20 == 3) {
            mixed.add(
                new ProducerRecord<>(
                    t, key, "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8)));
          }
          if (i == 50) {
            mixed.add(
                new ProducerRecord<>(
                    t, key, Codecs.READING.encode(seattle.get(i)))); // the same day again
          }
          if (i == 60) {
            mixed.add(
                new ProducerRecord<>(t, key, Codecs.READING.encode(seattle.get(40)))); // a late day
          }
        }
        Reading nan =
            Reading.newBuilder(seattle.get(10)).setFeatures(Map.of("temp_max", Double.NaN)).build();
        mixed.add(new ProducerRecord<>(t, key, Codecs.READING.encode(nan)));
        byte[] whole = Codecs.READING.encode(seattle.get(11));
        mixed.add(new ProducerRecord<>(t, key, Arrays.copyOf(whole, whole.length - 3)));
        kafka.produce(mixed);

        int expected = seattle.size() - WINDOW + 1;
        List<Forecast> forecasts = kafka.forecastsOf("Seattle", expected, Duration.ofSeconds(90));
        List<DeadLetter> dead = kafka.deadLetters(9);
        List<Evaluation> evaluations =
            kafka
                .readUntil(
                    kafka.topic("evaluations"),
                    Codecs.EVALUATION,
                    e ->
                        e.stream().filter(x -> x.getSeriesId().equals("Seattle")).count()
                            >= expected - 1,
                    Duration.ofSeconds(30))
                .stream()
                .filter(e -> e.getSeriesId().equals("Seattle"))
                .toList();

        // one forecast per window, none twice, each the model's own prediction of that window
        assertThat(forecasts).hasSize(expected);
        assertThat(forecasts.stream().map(Forecast::getForecastId).collect(Collectors.toSet()))
            .hasSize(expected);
        Map<LocalDate, Double> offline = offlinePredictions(model, seattle);
        for (Forecast f : forecasts) {
          assertThat(f.getModelVersion()).isEqualTo(model.getVersion());
          assertThat(f.getValue())
              .as("forecast from %s", f.getBaseDay())
              .isCloseTo(offline.get(f.getBaseDay()), within(1e-4));
        }
        // every garbage record is a dead letter with its reason and place
        assertThat(dead)
            .extracting(DeadLetter::getCategory)
            .containsOnly("undecodable", "invalid", "duplicate", "late");
        assertThat(dead.stream().filter(d -> d.getCategory().equals("undecodable")).count())
            .isEqualTo(6);
        assertThat(dead.stream().filter(d -> d.getCategory().equals("invalid")).count())
            .isEqualTo(1);
        assertThat(dead.stream().filter(d -> d.getCategory().equals("duplicate")).count())
            .isEqualTo(1);
        assertThat(dead.stream().filter(d -> d.getCategory().equals("late")).count()).isEqualTo(1);
        assertThat(dead).hasSize(9);
        assertThat(dead)
            .allSatisfy(d -> assertThat(d.getTopic()).isEqualTo(kafka.topic("readings")));
        // forecasts meet their actuals
        Map<LocalDate, Reading> byDay =
            seattle.stream().collect(Collectors.toMap(Reading::getDay, r -> r));
        assertThat(evaluations).hasSize(expected - 1);
        for (Evaluation e : evaluations) {
          assertThat(e.getActual())
              .isEqualTo(byDay.get(e.getTargetDay()).getFeatures().get("temp_max"));
          assertThat(e.getError()).isCloseTo(e.getPredicted() - e.getActual(), within(1e-9));
          assertThat(e.getPersistenceError()).isNotNull();
        }
      } finally {
        job.cancel().get();
      }
    }
  }

  @Test
  void aTaskManagerLostMidStreamLeavesExactlyOneForecastPerWindow(
      @InjectMiniCluster MiniCluster cluster) throws Exception {
    try (JobFixture kafka = new JobFixture("failover")) {
      kafka.publishModel(3, 4);
      // no checkpoint but those the test takes, so that the failure surely falls between a write
      // and its commit
      JobClient job =
          ForecastJob.run(
              StreamExecutionEnvironment.getExecutionEnvironment(),
              kafka.config(
                  Map.of("checkpoint.interval.ms", Long.toString(Duration.ofHours(1).toMillis()))),
              "failover");
      kafka.checkpointWith(
          () -> cluster.triggerCheckpoint(job.getJobID()).get(30, TimeUnit.SECONDS));
      try {
        kafka.awaitServing(1);
        List<Reading> seattle = JobFixture.seattle(FROM, UNTIL);
        List<Reading> first = seattle.subList(0, 40);
        kafka.produceReadings(first);
        kafka.readUntil(
            kafka.topic("forecasts"),
            Codecs.FORECAST,
            f -> JobFixture.count(f, "Seattle") >= first.size() - WINDOW + 1,
            Duration.ofSeconds(90));

        // forecasts written but not committed when the task manager dies
        kafka.produceReadings(seattle.subList(40, 60));
        long written =
            JobFixture.count(
                kafka.readUncommittedUntil(
                    kafka.topic("forecasts"),
                    Codecs.FORECAST,
                    f -> JobFixture.count(f, "Seattle") >= 60 - WINDOW + 1,
                    Duration.ofSeconds(30)),
                "Seattle");
        long committed =
            JobFixture.count(
                kafka.readCommittedNow(kafka.topic("forecasts"), Codecs.FORECAST), "Seattle");
        assertThat(written).as("forecasts written at the kill").isEqualTo(60 - WINDOW + 1);
        assertThat(committed).as("of which committed").isEqualTo(first.size() - WINDOW + 1);
        cluster.terminateTaskManager(0).get();
        cluster.startTaskManager(); // the job's tasks restart there from the last checkpoint
        kafka.produceReadings(seattle.subList(60, seattle.size()));

        int expected = seattle.size() - WINDOW + 1;
        List<Forecast> forecasts = kafka.forecastsOf("Seattle", expected, Duration.ofSeconds(120));
        assertThat(forecasts)
            .extracting(Forecast::getForecastId)
            .doesNotHaveDuplicates()
            .hasSize(expected);
        assertThat(forecasts)
            .extracting(Forecast::getBaseDay)
            .containsExactlyInAnyOrderElementsOf(
                seattle.subList(WINDOW - 1, seattle.size()).stream().map(Reading::getDay).toList());
      } finally {
        job.cancel().get();
      }
    }
  }

  @Test
  void aModelPublishedMidStreamServesTheRestWithoutARestart() throws Exception {
    try (JobFixture kafka = new JobFixture("swap")) {
      ModelUpdate v1 = kafka.publishModel(2, 4);
      JobClient job =
          ForecastJob.run(
              StreamExecutionEnvironment.getExecutionEnvironment(), kafka.config(Map.of()), "swap");
      try {
        kafka.awaitServing(v1.getVersion());
        List<Reading> seattle = JobFixture.seattle(FROM, UNTIL);
        kafka.produceReadings(seattle.subList(0, 45));
        kafka.readUntil(
            kafka.topic("forecasts"),
            Codecs.FORECAST,
            f -> JobFixture.count(f, "Seattle") >= 45 - WINDOW + 1,
            Duration.ofSeconds(90));

        ModelUpdate v2 = kafka.publishModel(6, 6);
        assertThat(v2.getVersion()).isEqualTo(v1.getVersion() + 1);
        kafka.awaitServing(v2.getVersion());
        kafka.produceReadings(seattle.subList(45, seattle.size()));

        int expected = seattle.size() - WINDOW + 1;
        List<Forecast> forecasts = kafka.forecastsOf("Seattle", expected, Duration.ofSeconds(90));

        assertThat(forecasts)
            .extracting(Forecast::getForecastId)
            .doesNotHaveDuplicates()
            .hasSize(expected);
        LocalDate swapDay = seattle.get(45).getDay();
        assertThat(forecasts)
            .allSatisfy(
                f ->
                    assertThat(f.getModelVersion())
                        .isEqualTo(
                            f.getBaseDay().isBefore(swapDay) ? v1.getVersion() : v2.getVersion()));
        Map<LocalDate, Double> byV2 = offlinePredictions(v2, seattle);
        forecasts.stream()
            .filter(f -> !f.getBaseDay().isBefore(swapDay))
            .forEach(
                f -> assertThat(f.getValue()).isCloseTo(byV2.get(f.getBaseDay()), within(1e-4)));
      } finally {
        job.cancel().get();
      }
    }
  }

  private static Map<LocalDate, Double> offlinePredictions(
      ModelUpdate update, List<Reading> readings) throws Exception {
    List<List<Reading>> windows = new ArrayList<>();
    for (int end = WINDOW; end <= readings.size(); end++) {
      windows.add(readings.subList(end - WINDOW, end));
    }
    double[] predicted = TinyModels.offline(update, windows);
    Map<LocalDate, Double> out = new HashMap<>();
    for (int i = 0; i < windows.size(); i++) {
      out.put(readings.get(WINDOW - 1 + i).getDay(), predicted[i]);
    }
    return out;
  }
}
