package dev.forecaster.job;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Writes a series' window compactly ({@link StateCoding}): its feature names, its capacity, then
 * its readings oldest first, the days as a run (a window's days are consecutive) and each feature's
 * values as one column (a weather station's 16 readings of four one-decimal features take 129 bytes
 * with their names, where Flink's POJO serializer wrote about 650). Read back, the ring starts at
 * slot 0; the window it gives is the same.
 */
public final class SeriesWindowStateSerializer extends StateCoding.Serializer<SeriesWindowState> {

  public static final SeriesWindowStateSerializer INSTANCE = new SeriesWindowStateSerializer();

  /** The encoding's version, first in every value. */
  private static final int FORMAT = 1;

  private SeriesWindowStateSerializer() {}

  @Override
  public SeriesWindowState createInstance() {
    return new SeriesWindowState();
  }

  @Override
  public SeriesWindowState copy(SeriesWindowState from) {
    SeriesWindowState to = new SeriesWindowState();
    to.featureNames = from.featureNames == null ? null : from.featureNames.clone();
    to.days = from.days == null ? null : from.days.clone();
    to.values = from.values == null ? null : from.values.clone();
    to.head = from.head;
    to.size = from.size;
    return to;
  }

  @Override
  void encode(SeriesWindowState state, DataOutputSerializer out) throws IOException {
    out.writeByte(FORMAT);
    StateCoding.writeStrings(out, state.featureNames);
    int capacity = state.days == null ? 0 : state.days.length;
    StateCoding.writeVarInt(out, capacity);
    StateCoding.writeVarInt(out, state.size);
    if (state.size == 0) {
      return;
    }
    int width = state.featureNames.length;
    int start = Math.floorMod(state.head - state.size, capacity);
    int[] days = new int[state.size];
    for (int i = 0; i < days.length; i++) {
      days[i] = state.days[(start + i) % capacity];
    }
    StateCoding.writeInts(out, days);
    double[] column = new double[state.size];
    for (int f = 0; f < width; f++) {
      for (int i = 0; i < column.length; i++) {
        column[i] = state.values[(start + i) % capacity * width + f];
      }
      StateCoding.writeColumn(out, column);
    }
  }

  @Override
  public SeriesWindowState deserialize(DataInputView in) throws IOException {
    int format = in.readUnsignedByte();
    if (format != FORMAT) {
      throw new IOException("a series window in format " + format + "; this build reads " + FORMAT);
    }
    SeriesWindowState state = new SeriesWindowState();
    state.featureNames = StateCoding.readStrings(in);
    int capacity = StateCoding.readLength(in);
    state.size = StateCoding.readLength(in);
    int width = state.featureNames == null ? 0 : state.featureNames.length;
    if (capacity < 0
        || state.size < 0
        || state.size > capacity
        || state.size > 0 && width == 0
        || (long) capacity * width > StateCoding.MAX_LENGTH) {
      throw new IOException(
          "a series window of "
              + state.size
              + " readings in "
              + capacity
              + " slots, "
              + width
              + " features: the state is corrupt");
    }
    state.days = new int[capacity];
    state.values = new double[capacity * width];
    if (state.size == 0) {
      return state;
    }
    int[] days = StateCoding.readInts(in);
    if (days == null || days.length != state.size) {
      throw new IOException("a series window of " + state.size + " readings with other days");
    }
    System.arraycopy(days, 0, state.days, 0, days.length);
    for (int f = 0; f < width; f++) {
      double[] column = StateCoding.readColumn(in, state.size);
      for (int i = 0; i < column.length; i++) {
        state.values[i * width + f] = column[i];
      }
    }
    state.head = state.size % capacity;
    return state;
  }

  @Override
  public TypeSerializerSnapshot<SeriesWindowState> snapshotConfiguration() {
    return new Snapshot();
  }

  /** Compatible with itself, and after migration with the POJO layout of the builds before. */
  public static final class Snapshot extends StateCoding.Snapshot<SeriesWindowState> {
    public Snapshot() {
      super(SeriesWindowState.class, INSTANCE);
    }
  }
}
