package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Reading;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryTest {

  private static Reading reading(String series, int day, Map<String, Double> features) {
    return Reading.newBuilder().setSeriesId(series).setDay(LocalDate.of(2015, 1, 1).plusDays(day))
        .setFeatures(features).setDomain("weather").build();
  }

  @Test
  void withFeaturesKeepsOnlyReadingsThatCarryEveryFeatureAsANumber() {
    Reading full = reading("KSEA", 0, Map.of("temp_max", 8.0, "wind", 3.0));
    Reading nan = reading("KSEA", 1, Map.of("temp_max", Double.NaN, "wind", 3.0));
    Reading noWind = reading("KSEA", 2, Map.of("temp_max", 9.0));
    Reading ticker = reading("SPX", 0, Map.of("close", 4000.0));
    History history = History.of(List.of(full, nan, noWind, ticker));

    History own = history.withFeatures(List.of("temp_max", "wind"));

    assertThat(own.readings()).isEqualTo(1);
    assertThat(own.bySeries()).containsOnlyKeys("KSEA");
    assertThat(own.bySeries().get("KSEA")).containsExactly(full);
    assertThat(history.readings()).isEqualTo(4); // the original is left as it was
  }
}
