package dev.forecaster.trainer;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What one round of the trainer service did and why, one JSON line of {@code decisions.jsonl}.
 *
 * @param trigger schedule, drift or request
 * @param decision published, kept_champion, worse_than_persistence, cancelled or failed
 * @param version the version published, or null
 * @param servingVersion the version in service when the round started, or null
 * @param historyReadings readings on the readings topic that carry the model's features
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RoundRecord(String startedAt, String finishedAt, String trigger, String reason, String modelName,
    String decision, Long version, Long servingVersion, Long historyReadings, Integer testWindows, String testFrom,
    String testTo, Double challengerMae, Double persistenceMae, Double championMae, Integer commonWindows,
    String explanation, String error) {

  public boolean published() {
    return "published".equals(decision);
  }
}
