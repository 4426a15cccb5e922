package dev.forecaster.trainer;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.Architecture;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;

/**
 * A small slice of the shipped Seattle weather and a small model, so real training takes seconds.
 */
final class WeatherSlice {

  static final LocalDate END = LocalDate.of(2013, 9, 1);
  static final LocalDate TEST_FROM = LocalDate.of(2013, 6, 1);

  static List<Reading> readings() {
    Path file =
        Path.of(System.getProperty("forecaster.data.dir", "../data"))
            .resolve(DatasetPreset.WEATHER.shippedFile());
    try {
      return new CsvReadingReader(DatasetPreset.WEATHER.mapping(), BadRowPolicy.FAIL)
          .readAll(file).stream().filter(r -> r.getDay().isBefore(END)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static History history() {
    return History.of(readings());
  }

  static ModelSpec spec(String name, Architecture arch, int members) {
    return ModelSpec.builder()
        .name(name)
        .architecture(arch)
        .hiddenSize(4)
        .members(members)
        .features(List.of("temp_max", "temp_min", "precipitation", "wind"))
        .calendar(true)
        .target("temp_max")
        .windowLength(5)
        .build();
  }

  static TrainingSettings settings(int epochs) {
    return TrainingSettings.builder()
        .epochs(epochs)
        .learningRate(0.01)
        .batchSize(32)
        .patience(0)
        .seed(42)
        .loss(TrainingSettings.Loss.MSE)
        .biasCorrection(false)
        .build();
  }

  /** Trains a one-member GRU named {@code name} for one epoch and publishes it, forced. */
  static TrainingRun.Outcome publishOneEpoch(String name, ModelRegistry registry) {
    return new TrainingRun(Clock.systemUTC())
        .run(
            history(),
            TrainingRun.Request.publish(
                    spec(name, Architecture.GRU, 1), settings(1), TEST_FROM, registry)
                .forced(),
            e -> {});
  }

  private WeatherSlice() {}
}
