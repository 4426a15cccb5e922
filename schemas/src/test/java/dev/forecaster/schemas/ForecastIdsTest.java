package dev.forecaster.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
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

  @Test
  void everyCharacterIsEncodedAsUrlEncoderEncodesIt() {
    StringBuilder all = new StringBuilder();
    for (char c = 0; c < 256; c++) {
      all.append(c);
    }
    all.append("é€日本\uD83D\uDE00");
    for (int i = 0; i < all.length(); i++) {
      String name = "a" + all.charAt(i) + "b";
      assertThat(ForecastIds.of(name, DAY, 2, name, 7))
          .isEqualTo(
              URLEncoder.encode(name, StandardCharsets.UTF_8)
                  + "/2015-03-16/h2/"
                  + URLEncoder.encode(name, StandardCharsets.UTF_8)
                  + "/v7");
    }
    assertThat(ForecastIds.of("station-12_A.b*c", DAY, 1, "weather", 1))
        .isEqualTo("station-12_A.b*c/2015-03-16/h1/weather/v1");
  }

  @Test
  void theBaseDayIsReadBackFromAnId() {
    assertThat(
            ForecastIds.baseDayOf(
                ForecastIds.of("a/2015-03-16/h1/m", DAY.plusDays(3), 2, "m/v1", 4)))
        .isEqualTo(DAY.plusDays(3));
    assertThatThrownBy(() -> ForecastIds.baseDayOf("Seattle/2015-13-16/h1/weather/v1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a forecast id");
    assertThatThrownBy(() -> ForecastIds.baseDayOf("Seattle/2015-03-16"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
