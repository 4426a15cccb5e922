package dev.forecaster.schemas.csv;

/** What a CSV read does with a row it cannot turn into a reading. */
public enum BadRowPolicy {
  /** Report the row (file, line, reason) in the summary and the log, and go on. */
  SKIP,
  /** Stop the read at the first bad row with an error naming file, line and reason. */
  FAIL
}
