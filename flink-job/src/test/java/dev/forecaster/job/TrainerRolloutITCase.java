package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.RetrainSchedule;
import dev.forecaster.trainer.RoundRecord;
import dev.forecaster.trainer.TrainerService;
import dev.forecaster.trainer.TrainingSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.CommonClientConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer service and the running job together: a round retrains on the readings topic and
 * publishes a better version, the job switches to it mid-stream, and a worse challenger changes
 * nothing; a read_committed reader sees exactly one forecast per window.
 */
class TrainerRolloutITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = JobFixture.miniCluster(Map.of());

  private static final int WINDOW = 5;

  /** The history ends with summer 2013, the backtest period. */
  private static final LocalDate TEST_FROM = LocalDate.of(2013, 6, 1);

  private static final LocalDate LIVE_FROM = LocalDate.of(2013, 9, 1);

  @TempDir Path stateDir;

  /** The model the fixture publishes, as the trainer's template. */
  private static ModelSpec template() {
    return ModelSpec.builder()
        .name("weather-test")
        .hiddenSize(4)
        .features(List.of("temp_max", "temp_min", "precipitation", "wind"))
        .calendar(true)
        .target("temp_max")
        .windowLength(WINDOW)
        .build();
  }

  private TrainerService trainer(JobFixture kafka, TrainingSettings training) {
    return new TrainerService(
        TrainerService.Settings.builder(
                Map.of(
                    CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.broker.bootstrapServers()),
                template(),
                training,
                stateDir)
            .topics(kafka.topic("readings"), kafka.topic("models"), kafka.topic("evaluations"))
            .testFrom(TEST_FROM)
            .schedule(RetrainSchedule.every(Duration.ofHours(1)))
            .historyTimeout(Duration.ofSeconds(30))
            .build(),
        Clock.systemUTC());
  }

  @Test
  void aBetterRetrainedModelIsRolledOutMidStreamAndAWorseOneIsNot() throws Exception {
    try (JobFixture kafka = new JobFixture("rollout")) {
      ModelUpdate v1 = kafka.publishModel(1, 4); // barely trained: the one to beat
      JobClient job =
          ForecastJob.run(
              StreamExecutionEnvironment.getExecutionEnvironment(),
              kafka.config(Map.of()),
              "rollout");
      try {
        kafka.awaitServing(v1.getVersion());
        List<Reading> seattle =
            JobFixture.seattle(LocalDate.of(2012, 1, 1), LocalDate.of(2013, 12, 1));
        LocalDate partB = LocalDate.of(2013, 10, 15);
        List<Reading> history =
            seattle.stream().filter(r -> r.getDay().isBefore(LIVE_FROM)).toList();
        List<Reading> liveA =
            seattle.stream()
                .filter(r -> !r.getDay().isBefore(LIVE_FROM) && r.getDay().isBefore(partB))
                .toList();
        List<Reading> liveB = seattle.stream().filter(r -> !r.getDay().isBefore(partB)).toList();
        kafka.produceReadings(history);

        // the scheduled round runs at start (no earlier round in the state folder) on the
        // readings topic; live readings go on while the new version is rolled out
        RoundRecord better;
        try (TrainerService service =
            trainer(
                    kafka,
                    TrainingSettings.builder()
                        .epochs(80)
                        .learningRate(0.005)
                        .batchSize(32)
                        .patience(10)
                        .seed(42)
                        .loss(TrainingSettings.Loss.MSE)
                        .biasCorrection(true)
                        .build())
                .start()) {
          better = awaitRounds(service, 1).get(0);
          for (int i = 0; i < liveA.size(); i += 5) {
            kafka.produceReadings(liveA.subList(i, Math.min(liveA.size(), i + 5)));
          }
        }
        assertThat(better.trigger()).isEqualTo("schedule");
        assertThat(better.decision()).as(better.explanation()).isEqualTo("published");
        assertThat(better.version()).isEqualTo(2L);
        assertThat(better.servingVersion()).isEqualTo(1L);
        assertThat(better.challengerMae()).isLessThan(better.championMae());
        kafka.awaitServing(2);

        // a barely trained challenger: not better than v2, not published
        RoundRecord worse;
        try (TrainerService weak =
            trainer(
                    kafka,
                    TrainingSettings.builder()
                        .epochs(1)
                        .learningRate(0.01)
                        .batchSize(32)
                        .patience(0)
                        .seed(7)
                        .loss(TrainingSettings.Loss.MSE)
                        .biasCorrection(false)
                        .build())
                .start()) {
          worse = weak.requestRound("test: a weak challenger").get(120, TimeUnit.SECONDS);
        }
        assertThat(worse.decision()).isIn("kept_champion", "worse_than_persistence");
        ModelRegistry registry =
            new ModelRegistry(
                Map.of(
                    CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.broker.bootstrapServers()),
                kafka.topic("models"));
        assertThat(registry.readAll()).extracting(ModelUpdate::getVersion).containsExactly(1L, 2L);

        kafka.produceReadings(liveB);
        int expected = seattle.size() - WINDOW + 1;
        List<Forecast> forecasts =
            kafka.forecastsOf("Seattle", expected, Duration.ofSeconds(120)).stream()
                .sorted(Comparator.comparing(Forecast::getBaseDay))
                .toList();

        // one forecast per window, none lost, none doubled, across the switch
        assertThat(forecasts).extracting(Forecast::getForecastId).doesNotHaveDuplicates();
        assertThat(forecasts).extracting(Forecast::getBaseDay).doesNotHaveDuplicates();
        assertThat(forecasts).hasSize(expected);
        // v1 first, then v2 from one day on, never back
        assertThat(forecasts.get(0).getModelVersion()).isEqualTo(1L);
        assertThat(forecasts.get(forecasts.size() - 1).getModelVersion()).isEqualTo(2L);
        assertThat(forecasts).extracting(Forecast::getModelVersion).isSorted();
        assertThat(forecasts)
            .filteredOn(f -> !f.getBaseDay().isBefore(partB))
            .allSatisfy(f -> assertThat(f.getModelVersion()).isEqualTo(2L));
      } finally {
        job.cancel().get();
      }
    }
  }

  private static List<RoundRecord> awaitRounds(TrainerService service, int n)
      throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    List<RoundRecord> rounds = service.decisions().readAll();
    while (rounds.size() < n && System.nanoTime() < end) {
      Thread.sleep(200);
      rounds = service.decisions().readAll();
    }
    assertThat(rounds).hasSizeGreaterThanOrEqualTo(n);
    return rounds;
  }
}
