package dev.forecaster.schemas;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;

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

  /**
   * The base day an id of {@link #of} names: its second part (the series id before it is encoded,
   * so it holds no separator).
   *
   * @throws IllegalArgumentException where {@code id} is not such an id
   */
  public static LocalDate baseDayOf(String id) {
    String[] parts = id.split("/", -1);
    try {
      if (parts.length == 5) {
        return LocalDate.parse(parts[1]);
      }
    } catch (DateTimeParseException e) {
      // said below
    }
    throw new IllegalArgumentException("not a forecast id: " + id);
  }

  /**
   * The text URL-encoded; as it is when every character is one URL encoding keeps (letters, digits,
   * {@code . - * _}): series ids and model names usually are, and a forecast id is made for every
   * forecast and every evaluation.
   */
  private static String encode(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (!kept(text.charAt(i))) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
      }
    }
    return text;
  }

  private static boolean kept(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '.'
        || c == '-'
        || c == '*'
        || c == '_';
  }
}
