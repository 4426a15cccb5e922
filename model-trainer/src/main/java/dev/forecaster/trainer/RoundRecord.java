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
public record RoundRecord(
    String startedAt,
    String finishedAt,
    String trigger,
    String reason,
    String modelName,
    String decision,
    Long version,
    Long servingVersion,
    Long historyReadings,
    Integer testWindows,
    String testFrom,
    String testTo,
    Double challengerMae,
    Double persistenceMae,
    Double championMae,
    Integer commonWindows,
    String explanation,
    String error) {

  public boolean published() {
    return "published".equals(decision);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a record by name; what is not set stays out of the JSON line. */
  public static final class Builder {
    private String startedAt;
    private String finishedAt;
    private String trigger;
    private String reason;
    private String modelName;
    private String decision;
    private Long version;
    private Long servingVersion;
    private Long historyReadings;
    private Integer testWindows;
    private String testFrom;
    private String testTo;
    private Double challengerMae;
    private Double persistenceMae;
    private Double championMae;
    private Integer commonWindows;
    private String explanation;
    private String error;

    private Builder() {}

    public Builder startedAt(String v) {
      startedAt = v;
      return this;
    }

    public Builder finishedAt(String v) {
      finishedAt = v;
      return this;
    }

    public Builder trigger(String v) {
      trigger = v;
      return this;
    }

    public Builder reason(String v) {
      reason = v;
      return this;
    }

    public Builder modelName(String v) {
      modelName = v;
      return this;
    }

    public Builder decision(String v) {
      decision = v;
      return this;
    }

    public Builder version(Long v) {
      version = v;
      return this;
    }

    public Builder servingVersion(Long v) {
      servingVersion = v;
      return this;
    }

    public Builder historyReadings(Long v) {
      historyReadings = v;
      return this;
    }

    public Builder testWindows(Integer v) {
      testWindows = v;
      return this;
    }

    public Builder testFrom(String v) {
      testFrom = v;
      return this;
    }

    public Builder testTo(String v) {
      testTo = v;
      return this;
    }

    public Builder challengerMae(Double v) {
      challengerMae = v;
      return this;
    }

    public Builder persistenceMae(Double v) {
      persistenceMae = v;
      return this;
    }

    public Builder championMae(Double v) {
      championMae = v;
      return this;
    }

    public Builder commonWindows(Integer v) {
      commonWindows = v;
      return this;
    }

    public Builder explanation(String v) {
      explanation = v;
      return this;
    }

    public Builder error(String v) {
      error = v;
      return this;
    }

    public RoundRecord build() {
      return new RoundRecord(
          startedAt,
          finishedAt,
          trigger,
          reason,
          modelName,
          decision,
          version,
          servingVersion,
          historyReadings,
          testWindows,
          testFrom,
          testTo,
          challengerMae,
          persistenceMae,
          championMae,
          commonWindows,
          explanation,
          error);
    }
  }
}
