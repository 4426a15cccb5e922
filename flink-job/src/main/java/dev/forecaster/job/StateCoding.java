package dev.forecaster.job;

import java.io.IOException;
import java.util.function.IntToDoubleFunction;
import java.util.function.IntToLongFunction;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
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
  private static final int MAX_LENGTH = 1 << 24;

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
    writeLength(out, values, values == null ? 0 : values.length);
    if (values != null) {
      writeIntegers(out, values.length, i -> values[i]);
    }
  }

  static int[] readInts(DataInputView in) throws IOException {
    int n = readLength(in);
    if (n < 0) {
      return null;
    }
    int[] values = new int[n];
    readIntegers(in, n, (i, v) -> values[i] = (int) v);
    return values;
  }

  static void writeShorts(DataOutputView out, short[] values) throws IOException {
    writeLength(out, values, values == null ? 0 : values.length);
    if (values != null) {
      writeIntegers(out, values.length, i -> values[i]);
    }
  }

  static short[] readShorts(DataInputView in) throws IOException {
    int n = readLength(in);
    if (n < 0) {
      return null;
    }
    short[] values = new short[n];
    readIntegers(in, n, (i, v) -> values[i] = (short) v);
    return values;
  }

  static void writeLongs(DataOutputView out, long[] values) throws IOException {
    writeLength(out, values, values == null ? 0 : values.length);
    if (values != null) {
      writeIntegers(out, values.length, i -> values[i]);
    }
  }

  static long[] readLongs(DataInputView in) throws IOException {
    int n = readLength(in);
    if (n < 0) {
      return null;
    }
    long[] values = new long[n];
    readIntegers(in, n, (i, v) -> values[i] = v);
    return values;
  }

  /** Where {@link #readIntegers} puts the i-th integer. */
  interface IntegerSink {
    void accept(int i, long value);
  }

  /** How {@link #writeIntegers} writes a column. */
  private static final int PLAIN = 0;

  private static final int RUNS_OF_STEPS = 1;
  private static final int RUNS_OF_VALUES = 2;

  /**
   * {@code count} integers as the differences from the one before, in whichever of three forms is
   * shortest: each difference; pairs of a difference and how often it repeats (sixteen consecutive
   * days take seven bytes); or pairs of a difference and how often the value it gives repeats (the
   * base days of a series' waiting forecasts, one source or one version throughout).
   */
  static void writeIntegers(DataOutputView out, int count, IntToLongFunction value)
      throws IOException {
    int mode = PLAIN;
    long shortest = encodedSize(PLAIN, count, value);
    for (int m : new int[] {RUNS_OF_STEPS, RUNS_OF_VALUES}) {
      long size = encodedSize(m, count, value);
      if (size < shortest) {
        mode = m;
        shortest = size;
      }
    }
    out.writeByte(mode);
    encode(
        mode,
        count,
        value,
        (delta, run) -> {
          writeVarLong(out, delta);
          if (run > 0) {
            writeVarInt(out, run);
          }
        });
  }

  /** One difference of {@link #encode} and its run (0: a form without runs). */
  private interface Pairs {
    void accept(long delta, int run) throws IOException;
  }

  private static long encodedSize(int mode, int count, IntToLongFunction value) {
    long[] size = {0};
    try {
      encode(
          mode,
          count,
          value,
          (delta, run) -> size[0] += varSize(delta) + (run > 0 ? varSize(run) : 0));
    } catch (IOException e) {
      throw new IllegalStateException("counting throws nothing", e);
    }
    return size[0];
  }

  private static void encode(int mode, int count, IntToLongFunction value, Pairs pairs)
      throws IOException {
    long previous = 0;
    int i = 0;
    while (i < count) {
      long v = value.applyAsLong(i);
      long delta = v - previous;
      int run = 1;
      if (mode == RUNS_OF_STEPS) {
        while (i + run < count
            && value.applyAsLong(i + run) - value.applyAsLong(i + run - 1) == delta) {
          run++;
        }
      } else if (mode == RUNS_OF_VALUES) {
        while (i + run < count && value.applyAsLong(i + run) == v) {
          run++;
        }
      }
      pairs.accept(delta, mode == PLAIN ? 0 : run);
      previous = mode == RUNS_OF_STEPS ? value.applyAsLong(i + run - 1) : v;
      i += run;
    }
  }

  /** Bytes of {@link #writeVarLong}. */
  private static int varSize(long value) {
    long v = (value << 1) ^ (value >> 63);
    return Math.max(1, (64 - Long.numberOfLeadingZeros(v) + 6) / 7);
  }

  static void readIntegers(DataInputView in, int count, IntegerSink sink) throws IOException {
    int mode = in.readUnsignedByte();
    if (mode > RUNS_OF_VALUES) {
      throw new IOException("integers in form " + mode + ": the state is corrupt");
    }
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
        sink.accept(i++, previous);
        if (mode == RUNS_OF_STEPS && r + 1 < run) {
          previous += delta;
        }
      }
    }
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
      writeXor(
          out, values.length, 4, stride, i -> Float.floatToRawIntBits(values[i]) & 0xFFFFFFFFL);
    }
  }

  static float[] readFloats(DataInputView in) throws IOException {
    int n = readLength(in);
    if (n < 0) {
      return null;
    }
    float[] values = new float[n];
    int stride = readVarInt(in);
    readXor(in, n, 4, stride, (i, bits) -> values[i] = Float.intBitsToFloat((int) bits));
    return values;
  }

  /**
   * {@code count} numbers of {@code width} bytes, each as its exclusive or with the one {@code
   * stride} places before (the first ones with 0), less its leading zero bytes: close numbers share
   * their sign, exponent and first digits, so the exclusive or starts with zeros. How many bytes
   * follow is a half byte, two to a byte.
   */
  static void writeXor(DataOutputView out, int count, int width, int stride, IntToLongFunction bits)
      throws IOException {
    if (stride < 1) {
      throw new IllegalArgumentException("a stride of at least 1, got " + stride);
    }
    for (int pair = 0; pair < count; pair += 2) {
      long first = xor(pair, stride, bits);
      long second = pair + 1 < count ? xor(pair + 1, stride, bits) : 0;
      int firstBytes = significantBytes(first);
      int secondBytes = significantBytes(second);
      out.writeByte(firstBytes << 4 | secondBytes);
      writeBytes(out, first, firstBytes);
      writeBytes(out, second, secondBytes);
    }
  }

  static void readXor(DataInputView in, int count, int width, int stride, IntegerSink sink)
      throws IOException {
    if (stride < 1 || stride > MAX_LENGTH) {
      throw new IOException("a stride of " + stride + ": the state is corrupt");
    }
    long[] recent = new long[Math.min(stride, Math.max(1, count))];
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
        long v = x ^ (i >= stride ? recent[i % recent.length] : 0);
        recent[i % recent.length] = v;
        sink.accept(i, v);
      }
    }
  }

  private static long xor(int i, int stride, IntToLongFunction bits) {
    return bits.applyAsLong(i) ^ (i >= stride ? bits.applyAsLong(i - stride) : 0);
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
      writeColumn(out, values.length, i -> values[i]);
    }
  }

  static double[] readDoubles(DataInputView in) throws IOException {
    int n = readLength(in);
    if (n < 0) {
      return null;
    }
    double[] values = new double[n];
    readColumn(in, n, (i, v) -> values[i] = v);
    return values;
  }

  /**
   * {@code count} numbers, {@code value(i)} the i-th: as integers over 10^k, each the difference
   * from the one before, for the fewest decimal places k that give every number back exactly; as
   * doubles when none does (more than {@link #MAX_DECIMALS} places, NaN, infinities, -0.0), each as
   * its difference from the one before ({@link #writeXor}).
   */
  static void writeColumn(DataOutputView out, int count, IntToDoubleFunction value)
      throws IOException {
    int k = decimals(count, value);
    out.writeByte(k);
    if (k == RAW) {
      writeXor(out, count, 8, 1, i -> Double.doubleToRawLongBits(value.applyAsDouble(i)));
      return;
    }
    long previous = 0;
    for (int i = 0; i < count; i++) {
      long m = Math.round(value.applyAsDouble(i) * POWERS[k]);
      writeVarLong(out, m - previous);
      previous = m;
    }
  }

  /** Where {@link #readColumn} puts the i-th number. */
  interface ColumnSink {
    void accept(int i, double value);
  }

  static void readColumn(DataInputView in, int count, ColumnSink sink) throws IOException {
    int k = in.readUnsignedByte();
    if (k == RAW) {
      readXor(in, count, 8, 1, (i, bits) -> sink.accept(i, Double.longBitsToDouble(bits)));
      return;
    }
    if (k > MAX_DECIMALS) {
      throw new IOException("a column with " + k + " decimal places: the state is corrupt");
    }
    long m = 0;
    for (int i = 0; i < count; i++) {
      m += readVarLong(in);
      sink.accept(i, m / POWERS[k]);
    }
  }

  /** The decimal places the column is written with, or {@link #RAW}. */
  private static int decimals(int count, IntToDoubleFunction value) {
    int k = 0;
    for (int i = 0; i < count; i++) {
      double v = value.applyAsDouble(i);
      while (k <= MAX_DECIMALS && !exact(v, k)) {
        k++;
      }
      if (k > MAX_DECIMALS) {
        return RAW;
      }
    }
    // a number exact with fewer places is usually exact with more; check what will be written
    for (int i = 0; i < count; i++) {
      if (!exact(value.applyAsDouble(i), k)) {
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
