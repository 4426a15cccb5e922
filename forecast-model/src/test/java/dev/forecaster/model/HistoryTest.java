package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Reading;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryTest {

  private static Reading reading(String series, int day, Map<String, Double> features) {
    return Reading.newBuilder()
        .setSeriesId(series)
        .setDay(LocalDate.of(2015, 1, 1).plusDays(day))
        .setFeatures(features)
        .setDomain("weather")
        .build();
  }

  @Test
  void invalidDuplicateAndLateReadingsAreLeftOutAndTheFirstReadingOfADayStays() {
    Reading mon = reading("KSEA", 0, Map.of("temp_max", 8.0));
    Reading tue = reading("KSEA", 1, Map.of("temp_max", 9.0));
    Reading tueAgain = reading("KSEA", 1, Map.of("temp_max", 99.0));
    Reading monLate = reading("KSEA", 0, Map.of("temp_max", 7.0));
    Reading nan = reading("KSEA", 2, Map.of("temp_max", Double.NaN));
    Reading wed = reading("KSEA", 2, Map.of("temp_max", 10.0));

    History history = History.of(List.of(mon, tue, tueAgain, monLate, nan, wed));

    assertThat(history.bySeries().get("KSEA")).containsExactly(mon, tue, wed);
    assertThat(history.duplicates()).isEqualTo(1);
    assertThat(history.late()).isEqualTo(1);
    assertThat(history.invalid()).isEqualTo(1);
  }

  @Test
  void aFileIsTakenInReplayOrderOldestDayFirstFileOrderWithinADay() {
    Reading wed = reading("KSEA", 2, Map.of("temp_max", 10.0));
    Reading tue = reading("KSEA", 1, Map.of("temp_max", 9.0));
    Reading tueAgain = reading("KSEA", 1, Map.of("temp_max", 99.0));

    History history =
        History.ofFile(List.of(wed, tue, tueAgain)); // newest first, as some files are

    assertThat(history.bySeries().get("KSEA")).containsExactly(tue, wed);
    assertThat(history.duplicates()).isEqualTo(1);
    assertThat(history.late()).isZero();
  }

  @Test
  void withFeaturesKeepsTheSeriesThatCarryThemAndAllTheirReadings() {
    Reading full = reading("KSEA", 0, Map.of("temp_max", 8.0, "wind", 3.0));
    Reading noWind = reading("KSEA", 1, Map.of("temp_max", 9.0));
    Reading ticker = reading("SPX", 0, Map.of("close", 4000.0));
    History history = History.of(List.of(full, noWind, ticker));

    History own = history.withFeatures(List.of("temp_max", "wind"));

    assertThat(own.bySeries()).containsOnlyKeys("KSEA");
    // a reading without wind stays: it breaks the series' windows, as it does in the job
    assertThat(own.bySeries().get("KSEA")).containsExactly(full, noWind);
    assertThat(own.readingsCarrying(List.of("temp_max", "wind"))).isEqualTo(1);
    assertThat(history.readings()).isEqualTo(3); // the original is left as it was
  }
}
