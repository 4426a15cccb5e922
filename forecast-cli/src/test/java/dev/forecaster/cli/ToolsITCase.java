package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.IntervalHit;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.ForecastIds;
import dev.forecaster.trainer.DecisionLog;
import dev.forecaster.trainer.RoundRecord;
import dev.forecaster.trainer.TrainerService;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** replay, tail and report against a real broker. */
class ToolsITCase {

  private static LocalKafkaBroker broker;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    broker = LocalKafkaBroker.start();
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void replayProducesEveryReadingOfTheCsvInDayOrder() throws Exception {
    Path csv = dir.resolve("prices.csv");
    Files.write(
        csv,
        List.of("day,close", "2021-01-05,11", "2021-01-04,10", "2021-01-06,x", "2021-01-07,12"));
    CliRun cli = new CliRun();

    int exit =
        cli.run(
            "replay",
            "--csv",
            csv.toString(),
            "--series-id",
            "ABC",
            "--time-column",
            "day",
            "--features",
            "close",
            "--domain",
            "stock",
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--topic",
            "replayed",
            "--rate",
            "100");

    assertThat(exit).as(cli.err.toString()).isZero();
    assertThat(cli.out.toString())
        .contains("replayed 3 readings of 1 series (2021-01-04 .. 2021-01-07)")
        .contains("1 bad rows skipped");
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "check");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<LocalDate> days = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of("replayed"));
      long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (days.size() < 3 && System.nanoTime() < end) {
        for (var r : c.poll(Duration.ofMillis(200))) {
          days.add(Codecs.READING.decode(r.value()).getDay());
          assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("ABC");
        }
      }
    }
    assertThat(days)
        .containsExactly(
            LocalDate.of(2021, 1, 4), LocalDate.of(2021, 1, 5), LocalDate.of(2021, 1, 7));
  }

  @Test
  void replayNamesTheAddressItCouldNotReach() throws Exception {
    Path csv = dir.resolve("one.csv");
    Files.write(csv, List.of("day,close", "2021-01-04,10"));
    CliRun cli = new CliRun();

    int exit =
        cli.run(
            "replay",
            "--csv",
            csv.toString(),
            "--series-id",
            "ABC",
            "--time-column",
            "day",
            "--features",
            "close",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--kafka-property",
            "default.api.timeout.ms=2000",
            "--kafka-property",
            "request.timeout.ms=1000");

    assertThat(exit).isNotZero();
    assertThat(cli.err.toString()).contains("no Kafka broker answered at 127.0.0.1:1");
  }

  @Test
  void trainerOnceRunsOneRoundRecordsItAndExits() throws Exception {
    CliRun replay = new CliRun();
    assertThat(
            replay.run(
                "replay",
                "--preset",
                "weather",
                "--bootstrap-servers",
                broker.bootstrapServers(),
                "--topic",
                "once-readings"))
        .as(replay.err.toString())
        .isZero();
    Path state = dir.resolve("state");
    List<String> trainer =
        List.of(
            "trainer",
            "--once",
            "--reason",
            "nightly cron",
            "--preset",
            "weather",
            "--members",
            "1",
            "--epochs",
            "3",
            "--horizons",
            "1",
            "--publish-first",
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--models-topic",
            "once-models",
            "--evaluations-topic",
            "once-evaluations",
            "--state-dir",
            state.toString(),
            "--history-timeout",
            "20s");
    CliRun once = new CliRun();

    int exit =
        once.run(
            Stream.concat(trainer.stream(), Stream.of("--readings-topic", "once-readings"))
                .toArray(String[]::new));

    // one round, start to end, then the command returns: its decision printed and logged
    assertThat(exit).as(once.out + "\n" + once.err).isZero();
    assertThat(once.out.toString()).contains("trainer:  weather: published v1");
    List<RoundRecord> rounds = new DecisionLog(state.resolve("decisions.jsonl")).readAll();
    assertThat(rounds).hasSize(1);
    assertThat(rounds.get(0).decision()).isEqualTo("published");
    assertThat(rounds.get(0).version()).isEqualTo(1L);
    assertThat(rounds.get(0).trigger()).isEqualTo("schedule");
    assertThat(rounds.get(0).reason()).isEqualTo("nightly cron");
    assertThat(rounds.get(0).historyReadings()).isEqualTo(1461L);

    // a round that fails (nothing to train on) is exit status 1, for the scheduler to see
    broker.createTopic("once-empty", 1, Map.of());
    CliRun failing = new CliRun();
    // what the trainer logs of it: the reason alone, no stack trace (the history is not a bug)
    List<LogEvent> logged = new CopyOnWriteArrayList<>();
    Appender capture =
        new AbstractAppender("once-capture", null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent event) {
            logged.add(event.toImmutable());
          }
        };
    capture.start();
    var serviceLog =
        (org.apache.logging.log4j.core.Logger) LogManager.getLogger(TrainerService.class);
    serviceLog.addAppender(capture);
    int failed;
    try {
      failed =
          failing.run(
              Stream.concat(trainer.stream(), Stream.of("--readings-topic", "once-empty"))
                  .toArray(String[]::new));
    } finally {
      serviceLog.removeAppender(capture);
    }
    assertThat(logged)
        .filteredOn(e -> e.getLevel() == Level.ERROR)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getMessage().getFormattedMessage())
                  .contains("round failed, nothing published: no readings to train on");
              assertThat(e.getThrown()).isNull();
            });

    assertThat(failed).isEqualTo(1);
    assertThat(failing.out.toString())
        .contains("trainer:  weather: round failed: ")
        .contains("no readings to train on: the history is empty (0 invalid")
        .doesNotContain("IllegalArgumentException"); // what to check, not the exception's class
    assertThat(new DecisionLog(state.resolve("decisions.jsonl")).last())
        .hasValueSatisfying(r -> assertThat(r.decision()).isEqualTo("failed"));

    // a topic of records that are not readings: the message counts them and says so
    broker.createTopic("once-garbage", 1, Map.of());
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < 3; i++) {
        producer
            .send(
                new ProducerRecord<>(
                    "once-garbage", key(), "not avro".getBytes(StandardCharsets.UTF_8)))
            .get();
      }
    }
    CliRun garbage = new CliRun();
    assertThat(
            garbage.run(
                Stream.concat(trainer.stream(), Stream.of("--readings-topic", "once-garbage"))
                    .toArray(String[]::new)))
        .isEqualTo(1);
    assertThat(garbage.out.toString())
        .contains(
            "no readings to train on: none of the 3 records of once-garbage could be decoded as a"
                + " reading");
  }

  @Test
  void tailPrintsForecastsAndEvaluationsAndReportDrawsThem() throws Exception {
    LocalDate base = LocalDate.of(2015, 12, 1);
    broker.createTopic("t-forecasts", 2, Map.of());
    broker.createTopic("t-evaluations", 2, Map.of());
    broker.createTopic("t-models", 1, Map.of()); // as `forecast topics` or the job creates it
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < 5; i++) {
        LocalDate day = base.plusDays(i);
        String id = ForecastIds.of("Seattle", day, 1, "weather", 2);
        producer.send(
            new ProducerRecord<>(
                "t-forecasts",
                key(),
                Codecs.FORECAST.encode(
                    Forecast.newBuilder()
                        .setForecastId(id)
                        .setSeriesId("Seattle")
                        .setBaseDay(day)
                        .setTargetDay(day.plusDays(1))
                        .setHorizon(1)
                        .setTarget("temp_max")
                        .setValue(10 + i)
                        .setModelName("weather")
                        .setModelVersion(2)
                        .setCreatedAt(Instant.now())
                        .build())));
        producer.send(
            new ProducerRecord<>(
                "t-evaluations",
                key(),
                Codecs.EVALUATION.encode(
                    Evaluation.newBuilder()
                        .setForecastId(id)
                        .setSeriesId("Seattle")
                        .setTargetDay(day.plusDays(1))
                        .setTarget("temp_max")
                        .setPredicted(10 + i)
                        .setActual(11 + i)
                        .setError(-1)
                        .setPersistenceError(2.0)
                        .setModelName("weather")
                        .setModelVersion(2)
                        .setIntervals(List.of(new IntervalHit(0.8, 9.0 + i, 12.0 + i, i % 2 == 0)))
                        .build())));
      }
      producer.flush();
    }
    CliRun tail = new CliRun();
    int exit =
        tail.run(
            "tail",
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--forecasts-topic",
            "t-forecasts",
            "--evaluations-topic",
            "t-evaluations",
            "--from-beginning",
            "--max",
            "10");
    assertThat(exit).isZero();
    assertThat(tail.out.toString())
        .contains(
            "forecast   Seattle    2015-12-01 -> 2015-12-02 h=1  temp_max 10.000  (weather v2)")
        .contains(
            "evaluation Seattle    2015-12-02 h=1  temp_max predicted 10.000 actual 11.000 error"
                + " -1.000 persistence +2.000 80% in  (weather v2 h=1; inside so far 80%:100% of"
                + " 1)")
        // the running coverage of the model version and horizon: 3 of 5 inside
        .contains("80% in  (weather v2 h=1; inside so far 80%:60% of 5)");

    CliRun report = new CliRun();
    Path html = dir.resolve("r.html");
    exit =
        report.run(
            "report",
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--output",
            html.toString(),
            "--forecasts-topic",
            "t-forecasts",
            "--evaluations-topic",
            "t-evaluations",
            "--readings-topic",
            "t-forecasts",
            "--dead-letters-topic",
            "t-forecasts",
            "--models-topic",
            "t-models");
    assertThat(exit).as(report.err.toString()).isZero();
    assertThat(report.out.toString()).contains("5 forecasts, 5 evaluations of 1 series");
    // live MAE 1.000 against persistence 2.000, in the accuracy table
    assertThat(Files.readString(html))
        .contains("<td>Seattle</td>")
        .contains(">1.000</td><td>2.000</td>")
        .contains("data:image/png;base64,");
  }

  private static byte[] key() {
    return "Seattle".getBytes(StandardCharsets.UTF_8);
  }
}
