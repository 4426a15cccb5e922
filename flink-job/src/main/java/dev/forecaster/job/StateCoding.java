package dev.forecaster.job;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * The compact, lossless encoding of the job's keyed state in checkpoints: integers as
 * variable-length (zig-zag) differences from the one before, repeats as runs; each column of
 * numbers as integers over a power of ten when every number of it is exactly such a decimal (a
 * sensor's 12.8, a price's 2081.25), else as the doubles themselves less the leading bytes they
 * share with the one before. Whether a number is written as a decimal is decided by reading it
 * back: what a checkpoint restores is always the same double, bit for bit.
 *
 * <p>The state in memory is unchanged (arrays of doubles, mutated in place); only what a checkpoint
 * writes of it, and what RocksDB keeps, is compact.
 */
final class StateCoding {

  /**
   * Decimal places a column may have to be written as integers: a limit chosen, not a double's (it
   * holds 15 to 17 digits); 10^9 covers sensors, prices and their float artefacts.
   */
  static final int MAX_DECIMALS = 9;

  /** The marker of a column written as doubles ({@link #writeXor}). */
  private static final int RAW = 0xFF;

  /** Exact powers of ten: 10^0 .. 10^MAX_DECIMALS are all exact doubles. */
  private static final double[] POWERS = new double[MAX_DECIMALS + 1];

  /** Integers a double holds exactly. */
  private static final long EXACT = 1L << 53;

  static {
    POWERS[0] = 1;
    for (int k = 1; k < POWERS.length; k++) {
      POWERS[k] = POWERS[k - 1] * 10;
    }
  }

  private StateCoding() {}

  static void writeVarInt(DataOutputView out, int value) throws IOException {
    writeVarLong(out, value);
  }

  static int readVarInt(DataInputView in) throws IOException {
    return (int) readVarLong(in);
  }

  /** A zig-zag variable-length integer: one byte from -64 to 63, two to ±8191, ... */
  static void writeVarLong(DataOutputView out, long value) throws IOException {
    long v = (value << 1) ^ (value >> 63);
    while ((v & ~0x7FL) != 0) {
      out.writeByte((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.writeByte((int) v);
  }

  static long readVarLong(DataInputView in) throws IOException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = in.readUnsignedByte();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (v >>> 1) ^ -(v & 1);
      }
    }
    throw new IOException("a variable-length integer longer than ten bytes: the state is corrupt");
  }

  /** An array's length, or -1 for none. */
  static void writeLength(DataOutputView out, Object array, int length) throws IOException {
    writeVarInt(out, array == null ? -1 : length);
  }

  /** Longer arrays than any state has: a length beyond it means the bytes are not a state's. */
  static final int MAX_LENGTH = 1 << 24;

  /** An array's length written by {@link #writeLength}: -1 for none. */
  static int readLength(DataInputView in) throws IOException {
    int n = readVarInt(in);
    if (n < -1 || n > MAX_LENGTH) {
      throw new IOException("an array of length " + n + ": the state is corrupt");
    }
    return n;
  }

  static void writeStrings(DataOutputView out, String[] strings) throws IOException {
    writeLength(out, strings, strings == null ? 0 : strings.length);
    if (strings != null) {
      for (String s : strings) {
        StringValue.writeString(s, out);
      }
    }
  }

  static String[] readStrings(DataInputView in) throws IOException {
    int n = readLength(in);
    if (n < 0) {
      return null;
    }
    String[] strings = new String[n];
    for (int i = 0; i < n; i++) {
      strings[i] = StringValue.readString(in);
    }
    return strings;
  }

  static void writeInts(DataOutputView out, int[] values) throws IOException {
    long[] longs = null;
    if (values != null) {
      longs = new long[values.length];
      for (int i = 0; i < longs.length; i++) {
        longs[i] = values[i];
      }
    }
    writeLongs(out, longs);
  }

  static int[] readInts(DataInputView in) throws IOException {
    long[] longs = readLongs(in);
    if (longs == null) {
      return null;
    }
    int[] values = new int[longs.length];
    for (int i = 0; i < longs.length; i++) {
      values[i] = (int) longs[i];
    }
    return values;
  }

  static void writeShorts(DataOutputView out, short[] values) throws IOException {
    long[] longs = null;
    if (values != null) {
      longs = new long[values.length];
      for (int i = 0; i < longs.length; i++) {
        longs[i] = values[i];
      }
    }
    writeLongs(out, longs);
  }

  static short[] readShorts(DataInputView in) throws IOException {
    long[] longs = readLongs(in);
    if (longs == null) {
      return null;
    }
    short[] values = new short[longs.length];
    for (int i = 0; i < longs.length; i++) {
      values[i] = (short) longs[i];
    }
    return values;
  }

  static void writeLongs(DataOutputView out, long[] values) throws IOException {
    writeLength(out, values, values == null ? 0 : values.length);
    if (values != null) {
      writeIntegers(out, values);
    }
  }

  static long[] readLongs(DataInputView in) throws IOException {
    int n = readLength(in);
    return n < 0 ? null : readIntegers(in, n);
  }

  /** How {@link #writeIntegers} writes a column. */
  private static final int PLAIN = 0;

  private static final int RUNS_OF_STEPS = 1;
  private static final int RUNS_OF_VALUES = 2;

  /**
   * Integers as the differences from the one before, in whichever of three forms is shortest: each
   * difference; pairs of a difference and how often it repeats (sixteen consecutive days take seven
   * bytes); or pairs of a difference and how often the value it gives repeats (the base days of a
   * series' waiting forecasts, one source or one version throughout). Sizes all three in one pass,
   * then writes one.
   */
  static void writeIntegers(DataOutputView out, long[] v) throws IOException {
    int n = v.length;
    long plain = 0;
    long steps = 0;
    long values = 0;
    long stepDelta = 0;
    int stepRun = 0;
    long valueDelta = 0;
    int valueRun = 0;
    for (int i = 0; i < n; i++) {
      long delta = v[i] - (i == 0 ? 0 : v[i - 1]);
      plain += varSize(delta);
      if (i > 0 && delta == stepDelta) {
        stepRun++;
      } else {
        steps += stepRun == 0 ? 0 : varSize(stepDelta) + varSize(stepRun);
        stepDelta = delta;
        stepRun = 1;
      }
      if (i > 0 && delta == 0) {
        valueRun++;
      } else {
        values += valueRun == 0 ? 0 : varSize(valueDelta) + varSize(valueRun);
        valueDelta = delta; // from the value of the run before
        valueRun = 1;
      }
    }
    steps += stepRun == 0 ? 0 : varSize(stepDelta) + varSize(stepRun);
    values += valueRun == 0 ? 0 : varSize(valueDelta) + varSize(valueRun);
    int mode =
        plain <= steps && plain <= values
            ? PLAIN
            : steps <= values ? RUNS_OF_STEPS : RUNS_OF_VALUES;
    out.writeByte(mode);
    int i = 0;
    long previous = 0;
    while (i < n) {
      long delta = v[i] - previous;
      int run = 1;
      if (mode == RUNS_OF_STEPS) {
        while (i + run < n && v[i + run] - v[i + run - 1] == delta) {
          run++;
        }
      } else if (mode == RUNS_OF_VALUES) {
        while (i + run < n && v[i + run] == v[i]) {
          run++;
        }
      }
      writeVarLong(out, delta);
      if (mode != PLAIN) {
        writeVarInt(out, run);
      }
      previous = v[i + run - 1];
      i += run;
    }
  }

  /** Bytes of {@link #writeVarLong}. */
  private static int varSize(long value) {
    long v = (value << 1) ^ (value >> 63);
    return Math.max(1, (64 - Long.numberOfLeadingZeros(v) + 6) / 7);
  }

  static long[] readIntegers(DataInputView in, int count) throws IOException {
    int mode = in.readUnsignedByte();
    if (mode > RUNS_OF_VALUES) {
      throw new IOException("integers in form " + mode + ": the state is corrupt");
    }
    long[] values = new long[count];
    long previous = 0;
    int i = 0;
    while (i < count) {
      long delta = readVarLong(in);
      int run = mode == PLAIN ? 1 : readVarInt(in);
      if (run < 1 || run > count - i) {
        throw new IOException(
            "a run of "
                + run
                + " integers where "
                + (count - i)
                + " are left: the state is corrupt");
      }
      previous += delta;
      for (int r = 0; r < run; r++) {
        values[i++] = previous;
        if (mode == RUNS_OF_STEPS && r + 1 < run) {
          previous += delta;
        }
      }
    }
    return values;
  }

  /**
   * Floats each as its bits' difference (exclusive or) from the float {@code stride} places before:
   * the bounds of a series' waiting forecasts, four a forecast, are close to the same bound of the
   * forecast before ({@link #writeXor}).
   */
  static void writeFloats(DataOutputView out, float[] values, int stride) throws IOException {
    writeLength(out, values, values == null ? 0 : values.length);
    if (values != null) {
      writeVarInt(out, stride);
      long[] bits = new long[values.length];
      for (int i = 0; i < bits.length; i++) {
        bits[i] = Float.floatToRawIntBits(values[i]) & 0xFFFFFFFFL;
      }
      writeXor(out, bits, stride);
    }
  }

  static float[] readFloats(DataInputView in) throws IOException {
    int n = readLength(in);
    if (n < 0) {
      return null;
    }
    int stride = readVarInt(in);
    long[] bits = readXor(in, n, 4, stride);
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = Float.intBitsToFloat((int) bits[i]);
    }
    return values;
  }

  /**
   * Numbers' bits, each as its exclusive or with the one {@code stride} places before (the first
   * ones with 0), less its leading zero bytes: close numbers share their sign, exponent and first
   * digits, so the exclusive or starts with zeros. How many bytes follow is a half byte, two to a
   * byte.
   */
  static void writeXor(DataOutputView out, long[] bits, int stride) throws IOException {
    if (stride < 1) {
      throw new IllegalArgumentException("a stride of at least 1, got " + stride);
    }
    int count = bits.length;
    for (int pair = 0; pair < count; pair += 2) {
      long first = bits[pair] ^ (pair >= stride ? bits[pair - stride] : 0);
      long second =
          pair + 1 < count
              ? bits[pair + 1] ^ (pair + 1 >= stride ? bits[pair + 1 - stride] : 0)
              : 0;
      int firstBytes = significantBytes(first);
      int secondBytes = significantBytes(second);
      out.writeByte(firstBytes << 4 | secondBytes);
      writeBytes(out, first, firstBytes);
      writeBytes(out, second, secondBytes);
    }
  }

  static long[] readXor(DataInputView in, int count, int width, int stride) throws IOException {
    if (stride < 1 || stride > MAX_LENGTH) {
      throw new IOException("a stride of " + stride + ": the state is corrupt");
    }
    long[] values = new long[count];
    for (int pair = 0; pair < count; pair += 2) {
      int header = in.readUnsignedByte();
      for (int i = pair; i < Math.min(pair + 2, count); i++) {
        int bytes = i == pair ? header >>> 4 : header & 0xF;
        if (bytes > width) {
          throw new IOException(
              bytes + " bytes of a " + width + "-byte number: the state is corrupt");
        }
        long x = 0;
        for (int b = 0; b < bytes; b++) {
          x = x << 8 | in.readUnsignedByte();
        }
        values[i] = x ^ (i >= stride ? values[i - stride] : 0);
      }
    }
    return values;
  }

  private static int significantBytes(long x) {
    return (64 - Long.numberOfLeadingZeros(x) + 7) / 8;
  }

  private static void writeBytes(DataOutputView out, long x, int bytes) throws IOException {
    for (int b = bytes - 1; b >= 0; b--) {
      out.writeByte((int) (x >>> (8 * b)));
    }
  }

  /** An array of doubles as one column ({@link #writeColumn}). */
  static void writeDoubles(DataOutputView out, double[] values) throws IOException {
    writeLength(out, values, values == null ? 0 : values.length);
    if (values != null) {
      writeColumn(out, values);
    }
  }

  static double[] readDoubles(DataInputView in) throws IOException {
    int n = readLength(in);
    return n < 0 ? null : readColumn(in, n);
  }

  /**
   * Numbers as integers over 10^k, each the difference from the one before, for the fewest decimal
   * places k that give every number back exactly; as doubles when none does (more than {@link
   * #MAX_DECIMALS} places, NaN, infinities, -0.0), each as its difference from the one before
   * ({@link #writeXor}).
   */
  static void writeColumn(DataOutputView out, double[] column) throws IOException {
    int k = decimals(column);
    out.writeByte(k);
    if (k == RAW) {
      long[] bits = new long[column.length];
      for (int i = 0; i < bits.length; i++) {
        bits[i] = Double.doubleToRawLongBits(column[i]);
      }
      writeXor(out, bits, 1);
      return;
    }
    long previous = 0;
    for (double v : column) {
      long m = Math.round(v * POWERS[k]);
      writeVarLong(out, m - previous);
      previous = m;
    }
  }

  static double[] readColumn(DataInputView in, int count) throws IOException {
    int k = in.readUnsignedByte();
    double[] column = new double[count];
    if (k == RAW) {
      long[] bits = readXor(in, count, 8, 1);
      for (int i = 0; i < count; i++) {
        column[i] = Double.longBitsToDouble(bits[i]);
      }
      return column;
    }
    if (k > MAX_DECIMALS) {
      throw new IOException("a column with " + k + " decimal places: the state is corrupt");
    }
    long m = 0;
    for (int i = 0; i < count; i++) {
      m += readVarLong(in);
      column[i] = m / POWERS[k];
    }
    return column;
  }

  /** The decimal places the column is written with, or {@link #RAW}. */
  private static int decimals(double[] column) {
    int k = 0;
    int checkedBefore = 0; // the numbers before this one were checked with fewer places than k
    for (int i = 0; i < column.length; i++) {
      if (!exact(column[i], k)) {
        do {
          k++;
        } while (k <= MAX_DECIMALS && !exact(column[i], k));
        if (k > MAX_DECIMALS) {
          return RAW;
        }
        checkedBefore = i;
      }
    }
    // a number exact with fewer places is usually exact with more; check what will be written
    for (int i = 0; i < checkedBefore; i++) {
      if (!exact(column[i], k)) {
        return RAW;
      }
    }
    return k;
  }

  /** Whether {@code v} is read back bit for bit as an integer over 10^k. */
  private static boolean exact(double v, int k) {
    double scaled = v * POWERS[k];
    if (!(Math.abs(scaled) < EXACT)) {
      return false; // NaN, infinities and numbers too large for the integer to be exact
    }
    return Double.doubleToRawLongBits(Math.round(scaled) / POWERS[k])
        == Double.doubleToRawLongBits(v);
  }

  /**
   * The base of the state's serializers: stateless, so one instance serves; a copy is a deep copy
   * (the heap backend copies a value before changing it while a checkpoint writes it), and copying
   * serialized bytes goes through a value.
   */
  abstract static class Serializer<T> extends TypeSerializerSingleton<T> {

    /**
     * Where a value is encoded before it goes out in one piece: the encoding writes byte by byte,
     * and a checkpoint's stream is several wrappers deep. One per thread (a checkpoint writes on
     * its own thread, RocksDB on the task's).
     */
    private static final ThreadLocal<DataOutputSerializer> SCRATCH =
        ThreadLocal.withInitial(() -> new DataOutputSerializer(1024));

    /**
     * Encodes {@code value} into {@code out}. Never through another state serializer's {@code
     * serialize}: it would clear the thread's buffer under this one.
     */
    abstract void encode(T value, DataOutputSerializer out) throws IOException;

    @Override
    public final void serialize(T value, DataOutputView target) throws IOException {
      DataOutputSerializer scratch = SCRATCH.get();
      scratch.clear();
      try {
        encode(value, scratch);
        target.write(scratch.getSharedBuffer(), 0, scratch.length());
      } finally {
        if (scratch.getSharedBuffer().length > 1 << 16) {
          SCRATCH.remove(); // an unusually large value: do not keep its buffer
        }
      }
    }

    @Override
    public boolean isImmutableType() {
      return false;
    }

    @Override
    public T copy(T from, T reuse) {
      return copy(from);
    }

    @Override
    public int getLength() {
      return -1;
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
      return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
      serialize(deserialize(source), target);
    }
  }

  /**
   * The snapshot of a state serializer: compatible as is with its own, and after migration with
   * Flink's POJO serializer of the same class, which wrote the state before the compact encoding (a
   * checkpoint or savepoint of that build restores: it is read with the POJO serializer and written
   * compactly from then on).
   */
  abstract static class Snapshot<T> extends SimpleTypeSerializerSnapshot<T> {
    private final Class<T> type;

    Snapshot(Class<T> type, TypeSerializer<T> serializer) {
      super(() -> serializer);
      this.type = type;
    }

    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(
        TypeSerializerSnapshot<T> old) {
      if (old instanceof PojoSerializerSnapshot<T> pojo
          && type.isInstance(pojo.restoreSerializer().createInstance())) {
        return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
      }
      return super.resolveSchemaCompatibility(old);
    }
  }
}
