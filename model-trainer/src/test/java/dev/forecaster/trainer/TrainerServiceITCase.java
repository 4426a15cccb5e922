package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.model.Architecture;
import dev.forecaster.schemas.Codecs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer service against a real broker: its schedule, its restart, its drift trigger, its
 * metrics.
 */
class TrainerServiceITCase {

  private static LocalKafkaBroker broker;

  @TempDir Path stateDir;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = LocalKafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  private static Map<String, Object> kafka() {
    return Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
  }

  private static void produce(String topic, List<ProducerRecord<byte[], byte[]>> records) {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    try (var producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      records.forEach(producer::send);
      producer.flush();
    }
  }

  /** Topics named for one test, the weather slice in its readings topic. */
  private static String readingsTopic(String prefix) throws Exception {
    String topic = prefix + "-readings";
    broker.createTopic(topic, 2, Map.of());
    broker.createTopic(prefix + "-evaluations", 2, Map.of());
    produce(
        topic,
        WeatherSlice.readings().stream()
            .map(
                r ->
                    new ProducerRecord<>(
                        topic,
                        r.getSeriesId().getBytes(StandardCharsets.UTF_8),
                        Codecs.READING.encode(r)))
            .toList());
    // a ticker shares the topic: its readings do not carry the weather model's features
    produce(
        topic,
        IntStream.range(0, 30)
            .mapToObj(
                i ->
                    Reading.newBuilder()
                        .setSeriesId("TICK")
                        .setDay(LocalDate.of(2013, 1, 1).plusDays(i))
                        .setDomain("stock")
                        .setFeatures(Map.of("close", 100.0 + i))
                        .build())
            .map(
                r ->
                    new ProducerRecord<>(
                        topic,
                        r.getSeriesId().getBytes(StandardCharsets.UTF_8),
                        Codecs.READING.encode(r)))
            .toList());
    return topic;
  }

  private TrainerService.Settings settings(
      String prefix, int epochs, RetrainSchedule schedule, DriftMonitor.Policy drift) {
    return settings(prefix, WeatherSlice.settings(epochs), schedule, drift);
  }

  /** Trained well enough to beat persistence and a 1-epoch model on the slice's test windows. */
  private static final TrainingSettings WELL_TRAINED =
      TrainingSettings.builder()
          .epochs(80)
          .learningRate(0.005)
          .batchSize(32)
          .patience(10)
          .seed(42)
          .loss(TrainingSettings.Loss.MSE)
          .biasCorrection(true)
          .build();

  private TrainerService.Settings settings(
      String prefix,
      TrainingSettings training,
      RetrainSchedule schedule,
      DriftMonitor.Policy drift) {
    return TrainerService.Settings.builder(
            kafka(), WeatherSlice.spec(prefix, Architecture.GRU, 1), training, stateDir)
        .topics(prefix + "-readings", prefix + "-models", prefix + "-evaluations")
        .testFrom(WeatherSlice.TEST_FROM)
        .schedule(schedule)
        .drift(drift)
        .historyTimeout(Duration.ofSeconds(30))
        .build();
  }

  private static List<RoundRecord> await(
      TrainerService service, Predicate<List<RoundRecord>> done, Duration timeout)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    List<RoundRecord> records = service.decisions().readAll();
    while (!done.test(records) && System.nanoTime() < end) {
      Thread.sleep(200);
      records = service.decisions().readAll();
    }
    return records;
  }

  @Test
  void theScheduleFiresAndARestartGoesOnFromTheLastRound() throws Exception {
    readingsTopic("sched");
    Duration every = Duration.ofSeconds(2);
    List<RoundRecord> rounds;
    try (TrainerService service =
        new TrainerService(
                settings("sched", 1, RetrainSchedule.every(every), null), Clock.systemUTC())
            .start()) {
      rounds = await(service, r -> r.size() >= 3, Duration.ofSeconds(120));
    }
    assertThat(rounds).hasSizeGreaterThanOrEqualTo(3);
    assertThat(rounds)
        .allSatisfy(
            r -> {
              assertThat(r.trigger()).isEqualTo("schedule");
              assertThat(r.historyReadings()).isEqualTo(WeatherSlice.readings().size());
              assertThat(r.decision())
                  .isEqualTo("worse_than_persistence"); // one epoch, no champion yet
            });
    // each round starts no sooner than the interval after the previous one ended
    for (int i = 1; i < rounds.size(); i++) {
      assertThat(
              Duration.between(
                  Instant.parse(rounds.get(i - 1).finishedAt()),
                  Instant.parse(rounds.get(i).startedAt())))
          .isGreaterThanOrEqualTo(every.minusMillis(50));
    }

    // meanwhile two versions were published by hand
    for (int i = 0; i < 2; i++) {
      WeatherSlice.publishOneEpoch("sched", new ModelRegistry(kafka(), "sched-models"));
    }

    // a restart with a long interval: the next round is due an hour after the last one, not now
    int before = rounds.size();
    try (TrainerService restarted =
        new TrainerService(
                settings("sched", WELL_TRAINED, RetrainSchedule.every(Duration.ofHours(1)), null),
                Clock.systemUTC())
            .start()) {
      assertThat(restarted.nextDue())
          .isEqualTo(Instant.parse(rounds.get(before - 1).finishedAt()).plus(Duration.ofHours(1)));
      // the round thread has looked at the schedule and waits for that time: no round now
      assertThat(restarted.awaitIdle(Duration.ofSeconds(30))).isTrue();
      assertThat(restarted.decisions().readAll()).hasSize(before);
      // asked for a round, a better model continues the topic's version sequence
      RoundRecord asked = restarted.requestRound("test").get(120, TimeUnit.SECONDS);
      assertThat(asked.trigger()).isEqualTo("request");
      assertThat(asked.servingVersion()).isEqualTo(2L);
      assertThat(asked.decision()).isEqualTo("published");
      assertThat(asked.version()).isEqualTo(3L);
      assertThat(asked.challengerMae())
          .isLessThan(asked.championMae())
          .isLessThan(asked.persistenceMae());
      assertThat(new ModelRegistry(kafka(), "sched-models").readAll())
          .extracting(ModelUpdate::getVersion)
          .containsExactly(1L, 2L, 3L);
      assertThat(stateDir.resolve("models/sched/v3/model.json")).exists();
    }
  }

  @Test
  void aFailedRoundIsRetriedWithBackoffNotAScheduleLater() throws Exception {
    broker.createTopic("retry-readings", 2, Map.of()); // empty: nothing to train on yet
    broker.createTopic("retry-evaluations", 2, Map.of());
    TrainerService.Settings s =
        settings("retry", 1, RetrainSchedule.every(Duration.ofHours(6)), null).toBuilder()
            .retryBackoff(Duration.ofSeconds(1))
            .build();
    try (TrainerService service = new TrainerService(s, Clock.systemUTC()).start()) {
      List<RoundRecord> failed = await(service, r -> !r.isEmpty(), Duration.ofSeconds(60));
      assertThat(failed.get(0).decision()).isEqualTo("failed");

      // the readings arrive: a retry, seconds later, trains on them
      produce(
          "retry-readings",
          WeatherSlice.readings().stream()
              .map(
                  r ->
                      new ProducerRecord<>(
                          "retry-readings",
                          r.getSeriesId().getBytes(StandardCharsets.UTF_8),
                          Codecs.READING.encode(r)))
              .toList());
      List<RoundRecord> rounds =
          await(
              service,
              r -> r.stream().anyMatch(x -> !x.decision().equals("failed")),
              Duration.ofSeconds(120));

      RoundRecord recovered = rounds.get(rounds.size() - 1);
      assertThat(recovered.trigger()).isEqualTo("retry");
      assertThat(recovered.decision()).isNotEqualTo("failed");
      assertThat(rounds.subList(1, rounds.size()))
          .allSatisfy(r -> assertThat(r.trigger()).isEqualTo("retry"));
      assertThat(
              Duration.between(
                  Instant.parse(failed.get(0).finishedAt()), Instant.parse(recovered.startedAt())))
          .isLessThan(Duration.ofMinutes(5)); // not the 6 hours of the schedule
      // after a round that did not fail, the schedule is back
      assertThat(service.awaitIdle(Duration.ofSeconds(30))).isTrue();
      assertThat(service.nextDue())
          .isEqualTo(Instant.parse(recovered.finishedAt()).plus(Duration.ofHours(6)));
    }
  }

  @Test
  void badLiveEvaluationsFireTheDriftTriggerAndAWorseChallengerIsNotPublished() throws Exception {
    readingsTopic("drift");
    // a well trained champion in service, v1
    TrainingRun.Outcome champion =
        new TrainingRun(Clock.systemUTC())
            .run(
                WeatherSlice.history(),
                TrainingRun.Request.publish(
                        WeatherSlice.spec("drift", Architecture.GRU, 1),
                        WELL_TRAINED,
                        WeatherSlice.TEST_FROM,
                        new ModelRegistry(kafka(), "drift-models"))
                    .forced(),
                e -> {});
    double backtest = champion.model().mae();
    // the last scheduled round just ended: nothing is due for an hour
    new DecisionLog(stateDir.resolve("decisions.jsonl"))
        .append(
            RoundRecord.builder()
                .startedAt(Instant.now().toString())
                .finishedAt(Instant.now().toString())
                .trigger("schedule")
                .reason("earlier")
                .modelName("drift")
                .decision("published")
                .version(1L)
                .challengerMae(backtest)
                .explanation("v1")
                .build());

    int k = 20;
    // the trainer retrains with 1 epoch: whatever drift says, that challenger is no better than v1
    try (TrainerService service =
        new TrainerService(
                settings(
                    "drift",
                    1,
                    RetrainSchedule.every(Duration.ofHours(1)),
                    new DriftMonitor.Policy(k, 0.25, Duration.ZERO)),
                Clock.systemUTC())
            .start()) {
      var http = service.metrics().serve("127.0.0.1", 0);
      try {
        // as accurate as the backtest: the follower reads and checks them, and finds no drift
        produce("drift-evaluations", evaluations("drift", 1, k, backtest));
        awaitChecked(service, k);
        assertThat(service.metrics().driftTriggers.get()).isZero();
        assertThat(service.awaitIdle(Duration.ofSeconds(30))).isTrue();
        assertThat(service.decisions().readAll()).hasSize(1);

        // k evaluations twice as far off: a drift round
        produce("drift-evaluations", evaluations("drift", 1, k, backtest * 2));
        List<RoundRecord> rounds = await(service, r -> r.size() >= 2, Duration.ofSeconds(120));
        assertThat(rounds).hasSize(2);
        RoundRecord drift = rounds.get(1);
        assertThat(drift.trigger()).isEqualTo("drift");
        assertThat(drift.reason()).contains("drift v1", "exceeds its backtest MAE");
        assertThat(drift.servingVersion()).isEqualTo(1L);
        assertThat(drift.decision()).isIn("kept_champion", "worse_than_persistence");
        assertThat(drift.version()).isNull();
        assertThat(new ModelRegistry(kafka(), "drift-models").readAll())
            .extracting(ModelUpdate::getVersion)
            .containsExactly(1L);
        // the drifted evaluations were used up: K new ones are needed, K - 1 are not enough
        produce("drift-evaluations", evaluations("drift", 1, k - 1, backtest * 2));
        awaitChecked(service, 3L * k - 1);
        assertThat(service.metrics().driftTriggers.get()).isEqualTo(1.0);
        assertThat(service.awaitIdle(Duration.ofSeconds(30))).isTrue();
        assertThat(service.decisions().readAll()).hasSize(2);

        String text =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + http.getPort() + "/metrics"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(text)
            .contains("forecaster_trainer_drift_triggers_total 1.0")
            .contains("forecaster_trainer_serving_version 1.0")
            .containsPattern(
                "forecaster_trainer_rounds_total\\{decision=\"(kept_champion|worse_than_persistence)\",trigger=\"drift\"}"
                    + " 1.0");
      } finally {
        http.close();
      }
    }
  }

  @Test
  void withPublishFirstTheFirstVersionGoesInServiceEvenIfPersistenceIsBetter() throws Exception {
    readingsTopic("first");
    TrainerService.Settings weak =
        settings("first", 1, RetrainSchedule.every(Duration.ofHours(1)), null);
    TrainerService.Settings publishFirst = weak.toBuilder().publishFirst(true).build();
    try (TrainerService service = new TrainerService(publishFirst, Clock.systemUTC())) {
      RoundRecord first = service.runOnce(TrainerService.Trigger.REQUEST, "first");
      RoundRecord second = service.runOnce(TrainerService.Trigger.REQUEST, "second");
      // one epoch does not beat persistence: published as the first version only
      assertThat(first.challengerMae()).isGreaterThan(first.persistenceMae());
      assertThat(first.decision()).isEqualTo("published");
      assertThat(first.version()).isEqualTo(1L);
      assertThat(second.decision()).isIn("kept_champion", "worse_than_persistence");
    }
    assertThat(new ModelRegistry(kafka(), "first-models").readAll())
        .extracting(ModelUpdate::getVersion)
        .containsExactly(1L);
  }

  @Test
  void aRoundStoppedMidwayPublishesNothing() throws Exception {
    readingsTopic("stop");
    TrainingSettings long_ =
        TrainingSettings.builder()
            .epochs(2000)
            .learningRate(0.005)
            .batchSize(32)
            .patience(0)
            .seed(42)
            .loss(TrainingSettings.Loss.MSE)
            .biasCorrection(true)
            .build();
    TrainerService service =
        new TrainerService(
                settings("stop", long_, RetrainSchedule.every(Duration.ofHours(1)), null),
                Clock.systemUTC())
            .start();
    // into the training: its first epoch is done
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (service.metrics().roundEpochs.get() < 1 && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertThat(service.metrics().roundEpochs.get()).isGreaterThanOrEqualTo(1);
    service.close();

    List<RoundRecord> rounds = service.decisions().readAll();
    assertThat(rounds).hasSize(1);
    assertThat(rounds.get(0).decision()).isEqualTo("cancelled");
    assertThat(rounds.get(0).error()).contains("nothing published");
    assertThat(new ModelRegistry(kafka(), "stop-models").readAll()).isEmpty();
    assertThat(stateDir.resolve("models")).doesNotExist();

    // a restart runs the cancelled round again at once, not an hour (the interval) after it
    Instant cancelledAt = Instant.parse(rounds.get(0).finishedAt());
    try (TrainerService restarted =
        new TrainerService(
                settings("stop", long_, RetrainSchedule.every(Duration.ofHours(1)), null),
                Clock.systemUTC())
            .start()) {
      assertThat(restarted.nextDue()).isEqualTo(cancelledAt);
    }
  }

  @Test
  void aStopIsHeededWhileTheRoundReadsItsHistory() throws Exception {
    readingsTopic("stopread");
    TrainerService service =
        new TrainerService(
            settings("stopread", 1, RetrainSchedule.every(Duration.ofHours(1)), null),
            Clock.systemUTC());
    // stopped before the read's first poll, as a stop that comes while it reads: the read ends
    // there, not at the topic's end offsets, and the round publishes nothing
    service.close();
    RoundRecord r = service.runOnce(TrainerService.Trigger.SCHEDULE, "a stop during the read");

    assertThat(r.decision()).isEqualTo("cancelled");
    assertThat(r.error())
        .contains("round abandoned, nothing published")
        .contains("reading stopread-readings stopped after 0 records");
    assertThat(new ModelRegistry(kafka(), "stopread-models").readAll()).isEmpty();
  }

  /** Waits until the drift follower has read and checked {@code n} evaluations in all. */
  private static void awaitChecked(TrainerService service, long n) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (service.metrics().evaluationsRead.get() < n && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertThat(service.metrics().evaluationsRead.get()).isEqualTo((double) n);
  }

  /** {@code n} evaluations of a version whose absolute error is {@code mae}. */
  private static List<ProducerRecord<byte[], byte[]>> evaluations(
      String model, long version, int n, double mae) {
    LocalDate day = LocalDate.of(2013, 9, 1);
    return IntStream.range(0, n)
        .mapToObj(
            i -> {
              Evaluation e =
                  Evaluation.newBuilder()
                      .setForecastId(model + "-" + i)
                      .setSeriesId("Seattle")
                      .setTargetDay(day.plusDays(i))
                      .setTarget("temp_max")
                      .setPredicted(20 + (i % 2 == 0 ? mae : -mae))
                      .setActual(20)
                      .setError(i % 2 == 0 ? mae : -mae)
                      .setPersistenceError(3.0)
                      .setModelName(model)
                      .setModelVersion(version)
                      .build();
              return new ProducerRecord<>(
                  model + "-evaluations",
                  "Seattle".getBytes(StandardCharsets.UTF_8),
                  Codecs.EVALUATION.encode(e));
            })
        .toList();
  }
}
