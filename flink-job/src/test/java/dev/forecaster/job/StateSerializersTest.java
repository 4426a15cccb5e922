package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Random;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * The keyed states' own serializers know every field of their classes: a field added to a state
 * class and not to its serializer would be lost at every checkpoint and every copy the heap backend
 * makes, silently.
 */
class StateSerializersTest {

  private final Random random = new Random(23);

  @Test
  void theEvaluatorsSerializerWritesAndCopiesEveryField() throws Exception {
    SeriesEvaluation state = filled(SeriesEvaluation.class);
    assertThat(state.waiting).hasSizeGreaterThan(0);

    SeriesEvaluation back = roundTrip(SeriesEvaluationSerializer.INSTANCE, state);
    SeriesEvaluation copy = SeriesEvaluationSerializer.INSTANCE.copy(state);

    assertThat(back).usingRecursiveComparison().isEqualTo(state);
    assertThat(copy).usingRecursiveComparison().isEqualTo(state);
    assertThat(copy.values).as("a deep copy").isNotSameAs(state.values);
    assertThat(copy.waiting[0]).isNotSameAs(state.waiting[0]);
  }

  @Test
  void theWindowsSerializerWritesEveryField() throws Exception {
    // the ring is written oldest first and read back from slot 0, so compare fields by name and
    // the window by what it holds
    assertThat(publicFields(SeriesWindowState.class))
        .containsExactlyInAnyOrder("featureNames", "days", "values", "head", "size");
    SeriesWindowState state = new SeriesWindowState(new String[] {"a", "b"}, 4);
    for (int d = 0; d < 6; d++) {
      state.append(19000 + d, new double[] {random.nextGaussian(), d / 10.0});
    }

    SeriesWindowState back = roundTrip(SeriesWindowStateSerializer.INSTANCE, state);
    SeriesWindowState copy = SeriesWindowStateSerializer.INSTANCE.copy(state);

    assertThat(back.toWindow("s", "m"))
        .usingRecursiveComparison()
        .isEqualTo(state.toWindow("s", "m"));
    assertThat(back.capacity()).isEqualTo(4);
    assertThat(copy).usingRecursiveComparison().isEqualTo(state);
    assertThat(copy.values).isNotSameAs(state.values);
  }

  @Test
  void aWindowWhoseSlotsTimesFeaturesExceedAnyStateIsRefusedAsCorrupt() throws Exception {
    // each length alone is within bounds; their product (2^36 values) is not, and in int
    // arithmetic wraps to 0: restored, such a window would hold no room for its readings
    DataOutputSerializer empty = new DataOutputSerializer(16);
    SeriesWindowStateSerializer.INSTANCE.serialize(
        new SeriesWindowState(new String[] {"a"}, 1), empty);
    DataOutputSerializer out = new DataOutputSerializer(16_384);
    out.writeByte(empty.getCopyOfBuffer()[0]); // this build's format
    String[] names = new String[1 << 12];
    Arrays.fill(names, "f");
    StateCoding.writeStrings(out, names);
    StateCoding.writeVarInt(out, 1 << 24); // slots
    StateCoding.writeVarInt(out, 0); // readings

    assertThatThrownBy(
            () ->
                SeriesWindowStateSerializer.INSTANCE.deserialize(
                    new DataInputDeserializer(out.getCopyOfBuffer())))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("the state is corrupt");
  }

  private static <T> T roundTrip(TypeSerializer<T> serializer, T value) throws Exception {
    DataOutputSerializer out = new DataOutputSerializer(256);
    serializer.serialize(value, out);
    DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
    T back = serializer.deserialize(in);
    assertThat(in.available()).as("every byte read").isZero();
    return back;
  }

  private static String[] publicFields(Class<?> type) {
    return Arrays.stream(type.getFields())
        .filter(f -> !Modifier.isStatic(f.getModifiers()))
        .map(Field::getName)
        .toArray(String[]::new);
  }

  /** An instance with every public field set to something other than its default. */
  private <T> T filled(Class<T> type) throws Exception {
    T value = type.getConstructor().newInstance();
    for (Field f : type.getFields()) {
      if (!Modifier.isStatic(f.getModifiers())) {
        f.set(value, some(f.getType()));
      }
    }
    return value;
  }

  private Object some(Class<?> type) throws Exception {
    if (type.isArray()) {
      int n = 2 + random.nextInt(5);
      Object array = Array.newInstance(type.getComponentType(), n);
      for (int i = 0; i < n; i++) {
        Array.set(array, i, some(type.getComponentType()));
      }
      return array;
    }
    if (type == int.class) {
      return random.nextInt() | 1;
    }
    if (type == long.class) {
      return random.nextLong() | 1;
    }
    if (type == short.class) {
      return (short) (random.nextInt(Short.MAX_VALUE) + 1);
    }
    if (type == double.class) {
      return random.nextGaussian() * 1e3;
    }
    if (type == float.class) {
      return (float) random.nextGaussian();
    }
    if (type == boolean.class) {
      return true;
    }
    if (type == String.class) {
      return "name-" + random.nextInt(100);
    }
    return filled(type);
  }
}
