package dev.forecaster.schemas;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;

/**
 * The deterministic id of a forecast: the same series, base day, horizon, model name and version
 * always give the same id, so a consumer de-duplicates on it (at-least-once delivery, replays).
 * Free-text parts are URL-encoded so that the separator cannot occur inside them.
 */
public final class ForecastIds {

  private ForecastIds() {}

  public static String of(
      String seriesId, LocalDate baseDay, int horizon, String modelName, long modelVersion) {
    return encode(seriesId)
        + '/'
        + baseDay
        + "/h"
        + horizon
        + '/'
        + encode(modelName)
        + "/v"
        + modelVersion;
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
