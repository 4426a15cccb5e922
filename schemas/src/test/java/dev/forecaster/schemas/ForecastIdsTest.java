package dev.forecaster.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ForecastIdsTest {

  private static final LocalDate DAY = LocalDate.of(2015, 3, 16);

  @Test
  void sameInputsGiveTheSameId() {
    assertThat(ForecastIds.of("Seattle", DAY, 1, "weather", 3))
        .isEqualTo(ForecastIds.of("Seattle", DAY, 1, "weather", 3))
        .isEqualTo("Seattle/2015-03-16/h1/weather/v3");
  }

  @Test
  void eachPartOfTheKeyChangesTheId() {
    Set<String> ids =
        Set.of(
            ForecastIds.of("Seattle", DAY, 1, "weather", 3),
            ForecastIds.of("Portland", DAY, 1, "weather", 3),
            ForecastIds.of("Seattle", DAY.plusDays(1), 1, "weather", 3),
            ForecastIds.of("Seattle", DAY, 2, "weather", 3),
            ForecastIds.of("Seattle", DAY, 1, "stock", 3),
            ForecastIds.of("Seattle", DAY, 1, "weather", 4));
    assertThat(ids).hasSize(6);
  }

  @Test
  void aSeparatorInsideASeriesIdCannotCollideWithAnotherKey() {
    assertThat(ForecastIds.of("a/2015-03-16/h1/m", DAY, 1, "m", 1))
        .isNotEqualTo(ForecastIds.of("a", DAY, 1, "m/v1/2015-03-16/h1/m", 1))
        .doesNotContain("a/2015");
  }
}
