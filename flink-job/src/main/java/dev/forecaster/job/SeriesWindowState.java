package dev.forecaster.job;

/**
 * The keyed state of one series: a ring buffer of its last readings. Appending is O(1); the buffer
 * is mutated in place (the heap state backend keeps the object, not a copy). Checkpoints write it
 * with {@link SeriesWindowStateSerializer}; it stays a Flink POJO, so that the checkpoints and
 * savepoints of the builds before, which Flink's POJO serializer wrote, restore. A field added
 * needs its place in that serializer (StateSerializersTest fails until it has one).
 */
public class SeriesWindowState {
  /**
   * Feature names of the readings in the buffer, sorted; a reading with other names starts it anew.
   */
  public String[] featureNames;

  public int[] days;

  /** Row-major ring: slot s, feature f at {@code s * featureNames.length + f}. */
  public double[] values;

  /** Next slot to write. */
  public int head;

  public int size;

  public SeriesWindowState() {}

  SeriesWindowState(String[] featureNames, int capacity) {
    this.featureNames = featureNames;
    this.days = new int[capacity];
    this.values = new double[capacity * featureNames.length];
  }

  int capacity() {
    return days.length;
  }

  int lastDay() {
    return days[(head - 1 + capacity()) % capacity()];
  }

  void append(int day, double[] row) {
    days[head] = day;
    System.arraycopy(row, 0, values, head * featureNames.length, featureNames.length);
    head = (head + 1) % capacity();
    size = Math.min(size + 1, capacity());
  }

  /** The last value row, for carrying it forward over a gap. */
  double[] lastRow() {
    int slot = (head - 1 + capacity()) % capacity();
    double[] row = new double[featureNames.length];
    System.arraycopy(values, slot * featureNames.length, row, 0, row.length);
    return row;
  }

  /** The buffered readings, oldest first, as a window for the scorer. */
  WindowReady toWindow(String seriesId, String modelName) {
    int f = featureNames.length;
    WindowReady w = new WindowReady();
    w.seriesId = seriesId;
    w.modelName = modelName;
    w.featureNames = featureNames;
    w.epochDays = new int[size];
    w.values = new double[size * f];
    int start = (head - size + capacity()) % capacity();
    for (int i = 0; i < size; i++) {
      int slot = (start + i) % capacity();
      w.epochDays[i] = days[slot];
      System.arraycopy(values, slot * f, w.values, i * f, f);
    }
    return w;
  }
}
