package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Reading;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code forecast job} started again: the local environment restores the newest completed
 * checkpoint of the last run (its own mini cluster, as the command has, not a test one).
 */
class RestoreITCase {

  private static final LocalDate FROM = LocalDate.of(2013, 6, 1);
  private static final LocalDate UNTIL = LocalDate.of(2013, 9, 1); // 92 days
  private static final int WINDOW = 5;

  @Test
  void aJobStartedAgainRestoresItsWindowsFromTheNewestCheckpoint(@TempDir Path checkpoints)
      throws Exception {
    try (JobFixture kafka = new JobFixture("restore")) {
      kafka.publishModel(2, 4);
      JobConfig config = kafka.config(Map.of("checkpoint.dir", checkpoints.toUri().toString()));
      List<Reading> seattle = JobFixture.seattle(FROM, UNTIL);
      int firstPart = 40;

      JobClient first =
          ForecastJob.run(ForecastJob.localEnvironment(config, null), config, "restore-1");
      try {
        kafka.awaitServing(1);
        kafka.produceReadings(seattle.subList(0, firstPart));
        // committed output means a completed checkpoint holds the windows that produced it
        kafka.forecastsOf("Seattle", firstPart - WINDOW + 1, Duration.ofSeconds(90));
      } finally {
        first.cancel().get(); // as a killed one, it leaves its checkpoints behind
      }
      Optional<Path> newest = LocalCheckpoints.newest(LocalCheckpoints.folder(config));
      assertThat(newest).isPresent();

      kafka.produceReadings(seattle.subList(firstPart, seattle.size()));
      JobClient second =
          ForecastJob.run(ForecastJob.localEnvironment(config, newest.get()), config, "restore-2");
      try {
        int expected = seattle.size() - WINDOW + 1;
        List<Forecast> forecasts = kafka.forecastsOf("Seattle", expected, Duration.ofSeconds(90));
        assertThat(forecasts).extracting(Forecast::getForecastId).doesNotHaveDuplicates();
        // no window is missing at the resume point: the windows came back with the offsets
        assertThat(forecasts)
            .extracting(Forecast::getBaseDay)
            .containsExactlyInAnyOrderElementsOf(
                seattle.subList(WINDOW - 1, seattle.size()).stream().map(Reading::getDay).toList());
      } finally {
        second.cancel().get();
      }
    }
  }
}
