package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class StateCodingTest {

  private final DataOutputSerializer out = new DataOutputSerializer(256);

  private DataInputDeserializer written() {
    return new DataInputDeserializer(out.getCopyOfBuffer());
  }

  @Test
  void everyDoubleComesBackBitForBit() throws IOException {
    double[] odd = {
      0.0,
      -0.0,
      Double.NaN,
      Double.POSITIVE_INFINITY,
      Double.NEGATIVE_INFINITY,
      Double.MIN_VALUE,
      -Double.MAX_VALUE,
      0.1 + 0.2,
      1e300,
      -1e-300,
      Math.PI,
      2081.25,
      9007199254740993.0,
      123456789.123456789,
      0.000000001,
      1.0000000001e-9
    };
    Random random = new Random(17);
    double[][] columns = {
      odd,
      random.doubles(200).map(d -> Math.round(d * 1000) / 10.0).toArray(), // one decimal
      random.doubles(200).map(d -> Math.round(d * 1e8) / 100.0).toArray(), // prices
      random.doubles(200).map(d -> d * 40 - 10).toArray(), // every digit
      random.longs(200).mapToDouble(Double::longBitsToDouble).toArray(), // any bits at all
      {},
      {12.8}
    };
    for (double[] column : columns) {
      out.clear();
      StateCoding.writeDoubles(out, column);
      double[] back = StateCoding.readDoubles(written());
      assertThat(Arrays.stream(back).mapToLong(Double::doubleToRawLongBits).toArray())
          .containsExactly(Arrays.stream(column).mapToLong(Double::doubleToRawLongBits).toArray());
    }
    out.clear();
    StateCoding.writeDoubles(out, null);
    assertThat(StateCoding.readDoubles(written())).isNull();
  }

  @Test
  void decimalsTakeAByteOrTwoAndDigitsTheirBytes() throws IOException {
    double[] temperatures = new double[64];
    for (int i = 0; i < temperatures.length; i++) {
      temperatures[i] = (128 + i % 9 * 3 - i % 4 * 7) / 10.0;
    }
    StateCoding.writeDoubles(out, temperatures);
    assertThat(out.length()).as("64 one-decimal temperatures").isLessThan(80);

    out.clear();
    double[] forecasts = new Random(3).doubles(64).map(d -> 12 + d).toArray();
    StateCoding.writeDoubles(out, forecasts);
    assertThat(out.length())
        .as("64 full doubles, close to each other: less than 8 bytes each, never much more")
        .isBetween(64 * 6, 64 * 8 + 40);
  }

  @Test
  void integersComeBackInEveryForm() throws IOException {
    int[][] columns = {
      {},
      {7},
      {16000, 16001, 16002, 16003, 16004, 16005}, // runs of steps
      {20, 21, 21, 22, 22, 22, 23, 23, 23, 23}, // runs of values
      {3, -9, 400, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 0, 1}, // plain
    };
    for (int[] column : columns) {
      out.clear();
      StateCoding.writeInts(out, column);
      assertThat(StateCoding.readInts(written())).containsExactly(column);
    }
    long[] longs = {Long.MIN_VALUE, Long.MAX_VALUE, -1, 1L << 40, Long.MAX_VALUE, Long.MAX_VALUE};
    out.clear();
    StateCoding.writeLongs(out, longs);
    assertThat(StateCoding.readLongs(written())).containsExactly(longs);
    short[] shorts = {7, 6, 7, 5, 6, 7, Short.MIN_VALUE, Short.MAX_VALUE};
    out.clear();
    StateCoding.writeShorts(out, shorts);
    assertThat(StateCoding.readShorts(written())).containsExactly(shorts);

    Random random = new Random(5);
    for (int trial = 0; trial < 200; trial++) {
      int[] column = random.ints(random.nextInt(40), -3, 3 + random.nextInt(1000)).toArray();
      if (trial % 2 == 0) {
        Arrays.sort(column);
      }
      out.clear();
      StateCoding.writeInts(out, column);
      assertThat(StateCoding.readInts(written())).containsExactly(column);
    }
  }

  @Test
  void runsAreShort() throws IOException {
    int[] days = new int[16];
    Arrays.setAll(days, i -> 20000 + i);
    StateCoding.writeInts(out, days);
    assertThat(out.length()).as("16 consecutive days").isLessThanOrEqualTo(8);
    out.clear();
    short[] sources = new short[28];
    StateCoding.writeShorts(out, sources);
    assertThat(out.length()).as("28 forecasts of one source").isLessThanOrEqualTo(4);
  }

  @Test
  void floatsComeBackBitForBitWhateverTheStride() throws IOException {
    Random random = new Random(11);
    float[] bounds = new float[4 * 28 + 3];
    for (int i = 0; i < bounds.length; i++) {
      bounds[i] = (float) ((i % 2 == 0 ? -1 : 1) * (1 + random.nextDouble()));
    }
    bounds[5] = Float.NaN;
    bounds[6] = -0.0f;
    bounds[7] = Float.intBitsToFloat(0x7fc00001); // a NaN with a payload
    for (int stride : new int[] {1, 2, 4, 7, 200}) {
      out.clear();
      StateCoding.writeFloats(out, bounds, stride);
      float[] back = StateCoding.readFloats(written());
      for (int i = 0; i < bounds.length; i++) {
        assertThat(Float.floatToRawIntBits(back[i]))
            .as("stride %d, float %d", stride, i)
            .isEqualTo(Float.floatToRawIntBits(bounds[i]));
      }
    }
  }

  @Test
  void aCorruptColumnIsAClearError() {
    out.clear();
    assertThatThrownBy(
            () -> {
              StateCoding.writeVarInt(out, 3);
              out.writeByte(42); // no column has 42 decimal places
              StateCoding.readDoubles(written());
            })
        .isInstanceOf(IOException.class)
        .hasMessageContaining("42 decimal places");
  }
}
