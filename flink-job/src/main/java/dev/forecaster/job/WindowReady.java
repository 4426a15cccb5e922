package dev.forecaster.job;

/**
 * The latest readings of one series after a new one arrived, oldest first: what the scorer cuts a
 * model's window from. Model-agnostic (every feature the readings carry), so a model swap changes
 * nothing upstream. A Flink POJO of arrays: no Kryo.
 */
public class WindowReady {
  public String seriesId;

  /** Model the series is scored with (the configured one, or the reading's domain). */
  public String modelName;

  public int[] epochDays;
  public String[] featureNames;

  /** Row-major: row r, feature f at {@code r * featureNames.length + f}. */
  public double[] values;

  public WindowReady() {}

  public int rows() {
    return epochDays.length;
  }
}
