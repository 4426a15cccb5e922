package dev.forecaster.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Interval;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.RecordDecodingException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AvroCodecTest {

  static Stream<Arguments> contracts() {
    return Stream.of(
        Arguments.of(Codecs.READING, ContractSamples.reading()),
        Arguments.of(Codecs.FORECAST, ContractSamples.forecast()),
        Arguments.of(Codecs.MODEL_UPDATE, ContractSamples.modelUpdate()),
        Arguments.of(Codecs.EVALUATION, ContractSamples.evaluation()),
        Arguments.of(Codecs.DEAD_LETTER, ContractSamples.deadLetter()));
  }

  @ParameterizedTest
  @MethodSource("contracts")
  <T extends SpecificRecord> void everyContractRoundTrips(AvroCodec<T> codec, T record)
      throws Exception {
    byte[] bytes = codec.encode(record);

    T decoded = codec.decode(bytes);

    assertThat(decoded).isEqualTo(record);
    assertThat(decoded).isNotSameAs(record);
  }

  @ParameterizedTest
  @MethodSource("contracts")
  <T extends SpecificRecord> void bytesAreAvroSingleObjectEncoding(AvroCodec<T> codec, T record)
      throws IOException {
    byte[] bytes = codec.encode(record);
    // what Avro's own single-object encoder writes for the same record
    byte[] avros =
        toArray(
            new BinaryMessageEncoder<T>(SpecificData.getForClass(codec.type()), codec.schema())
                .encode(record));

    assertThat(bytes).containsExactly(avros);
    assertThat(Arrays.copyOf(bytes, 2)).containsExactly(0xC3, 0x01);
    long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(fingerprint).isEqualTo(AvroCodec.fingerprint(codec.schema()));
  }

  @Test
  void readingWrittenWithAnOlderSchemaIsReadWithTheNewFieldsDefault() throws Exception {
    Schema older = parseTestResource("schema-history/Reading.v0.avsc");
    byte[] fromOldProducer = encodeGeneric(older, "Seattle", 16510, Map.of("temp_max", 12.8));

    Reading reading = AvroCodec.of(Reading.class, List.of(older)).decode(fromOldProducer);

    assertThat(reading.getSeriesId()).isEqualTo("Seattle");
    assertThat(reading.getDay()).isEqualTo(LocalDate.ofEpochDay(16510));
    assertThat(reading.getFeatures()).containsExactlyEntriesOf(Map.of("temp_max", 12.8));
    assertThat(reading.getDomain()).isEqualTo(""); // the default of the field added since
  }

  @Test
  void olderSchemasListedInTheSchemaHistoryAreKnownToTheSharedCodec() throws Exception {
    Schema older = parseTestResource("schema-history/Reading.v0.avsc");
    byte[] fromOldProducer = encodeGeneric(older, "Seattle", 16510, Map.of("wind", 4.7));

    assertThat(SchemaHistory.olderVersionsOf(Reading.getClassSchema().getFullName()))
        .containsExactly(older);
    assertThat(Codecs.READING.decode(fromOldProducer).getFeatures()).containsEntry("wind", 4.7);
  }

  @Test
  void aConsumerOfTheOldForecastSchemaReadsNewForecastsWithIntervals() throws Exception {
    Schema v1 = SchemaHistory.olderVersionsOf(Forecast.getClassSchema().getFullName()).get(0);
    assertThat(v1.getField("intervals")).isNull();
    Forecast forecast =
        Forecast.newBuilder(ContractSamples.forecast())
            .setIntervals(List.of(new Interval(0.8, 10.5, 14.0), new Interval(0.95, 9.0, 15.5)))
            .build();
    byte[] bytes = Codecs.FORECAST.encode(forecast);

    // an old consumer knows the writer's schema (from a registry, or the new jar's schema) and
    // reads with its own: the new field is skipped
    BinaryMessageDecoder<GenericRecord> old = new BinaryMessageDecoder<>(GenericData.get(), v1);
    old.addSchema(Forecast.getClassSchema());
    GenericRecord read = old.decode(bytes);

    assertThat(read.getSchema()).isEqualTo(v1);
    assertThat(read.get("forecastId").toString()).isEqualTo(forecast.getForecastId());
    assertThat(read.get("value")).isEqualTo(forecast.getValue());
    assertThat(read.get("horizon")).isEqualTo(forecast.getHorizon());
  }

  @Test
  void oldForecastsAndEvaluationsReadWithoutIntervalsAndHorizonOne() throws Exception {
    Schema forecastV1 =
        SchemaHistory.olderVersionsOf(Forecast.getClassSchema().getFullName()).get(0);
    Schema evaluationV1 =
        SchemaHistory.olderVersionsOf(Evaluation.getClassSchema().getFullName()).get(0);
    byte[] oldForecast = reencode(ContractSamples.forecast(), forecastV1);
    byte[] oldEvaluation = reencode(ContractSamples.evaluation(), evaluationV1);

    Forecast forecast = Codecs.FORECAST.decode(oldForecast);
    Evaluation evaluation = Codecs.EVALUATION.decode(oldEvaluation);

    assertThat(forecast.getIntervals()).isEmpty();
    assertThat(forecast.getValue()).isEqualTo(ContractSamples.forecast().getValue());
    assertThat(evaluation.getIntervals()).isEmpty();
    assertThat(evaluation.getHorizon()).isEqualTo(1);
    assertThat(evaluation.getActual()).isEqualTo(ContractSamples.evaluation().getActual());
  }

  /** A record as an older producer wrote it: the fields of the older schema, in its encoding. */
  private static byte[] reencode(SpecificRecord record, Schema older) throws IOException {
    GenericRecord copy = new GenericData.Record(older);
    for (Schema.Field f : older.getFields()) {
      Object value = record.get(record.getSchema().getField(f.name()).pos());
      copy.put(f.name(), value);
    }
    return toArray(new BinaryMessageEncoder<GenericRecord>(SpecificData.get(), older).encode(copy));
  }

  @Test
  void unknownWriterSchemaIsReportedWithItsFingerprint() throws Exception {
    Schema older = parseTestResource("schema-history/Reading.v0.avsc");
    byte[] fromOldProducer = encodeGeneric(older, "Seattle", 16510, Map.of());
    AvroCodec<Reading> withoutHistory = AvroCodec.of(Reading.class, List.of());

    RecordDecodingException e = decodeFailure(withoutHistory, fromOldProducer);

    assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_SCHEMA);
    assertThat(e.getMessage()).contains(String.format("%016x", AvroCodec.fingerprint(older)));
  }

  @Test
  void emptyAndNullBytesAreRejected() {
    assertThat(decodeFailure(Codecs.READING, new byte[0]).reason()).isEqualTo(Reason.EMPTY);
    assertThat(decodeFailure(Codecs.READING, null).reason()).isEqualTo(Reason.EMPTY);
  }

  @Test
  void bytesWithoutTheMarkerAreNotAvro() {
    RecordDecodingException e = decodeFailure(Codecs.READING, "{\"seriesId\":\"x\"}".getBytes());
    assertThat(e.reason()).isEqualTo(Reason.BAD_HEADER);
    assertThat(e.getMessage()).contains("7b22"); // what was there instead
  }

  @Test
  void everyTruncationOfAValidRecordIsATypedError() {
    byte[] bytes = Codecs.MODEL_UPDATE.encode(ContractSamples.modelUpdate());
    for (int length = 0; length < bytes.length; length++) {
      byte[] cut = Arrays.copyOf(bytes, length);
      Throwable thrown = catchThrowable(() -> Codecs.MODEL_UPDATE.decode(cut));
      assertThat(thrown)
          .as("cut at %d of %d", length, bytes.length)
          .isInstanceOf(RecordDecodingException.class);
    }
    byte[] lastByteMissing = Arrays.copyOf(bytes, bytes.length - 1);
    assertThat(decodeFailure(Codecs.MODEL_UPDATE, lastByteMissing).reason())
        .isEqualTo(Reason.TRUNCATED);
    assertThat(decodeFailure(Codecs.MODEL_UPDATE, Arrays.copyOf(bytes, 6)).reason())
        .isEqualTo(Reason.TRUNCATED);
  }

  @Test
  void trailingBytesAfterARecordAreCorrupt() {
    byte[] bytes = Codecs.READING.encode(ContractSamples.reading());
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);

    assertThat(decodeFailure(Codecs.READING, longer).reason()).isEqualTo(Reason.CORRUPT);
  }

  @Test
  void aGarbageStringLengthFailsWithoutAllocatingIt() throws IOException {
    // a valid header, then a series id that claims to be 1.5 GB long (the test JVM has 256 MB)
    byte[] bytes = withHeader(Codecs.READING, encoder -> encoder.writeLong(1_500_000_000L));

    RecordDecodingException e = decodeFailure(Codecs.READING, bytes);

    assertThat(e.reason()).isIn(Reason.TRUNCATED, Reason.CORRUPT);
  }

  @Test
  void aGarbageMapSizeFailsWithoutAllocatingIt() throws IOException {
    byte[] bytes =
        withHeader(
            Codecs.READING,
            encoder -> {
              encoder.writeString("Seattle");
              encoder.writeInt(16510);
              encoder.writeMapStart();
              encoder.setItemCount(1_000_000_000L); // a billion features in a few bytes
              encoder.startItem();
              encoder.writeString("t");
              encoder.writeDouble(1.0);
            });

    RecordDecodingException e = decodeFailure(Codecs.READING, bytes);

    assertThat(e.reason()).isIn(Reason.TRUNCATED, Reason.CORRUPT);
  }

  @Test
  void randomGarbageAfterAValidHeaderNeverEscapesAsAnotherException() {
    Random random = new Random(42);
    for (int i = 0; i < 5_000; i++) {
      byte[] garbage = new byte[1 + random.nextInt(64)];
      random.nextBytes(garbage);
      byte[] bytes =
          concat(
              Arrays.copyOf(Codecs.DEAD_LETTER.encode(ContractSamples.deadLetter()), 10), garbage);
      Throwable thrown = catchThrowable(() -> Codecs.DEAD_LETTER.decode(bytes));
      if (thrown != null) {
        assertThat(thrown).as("garbage #%d", i).isInstanceOf(RecordDecodingException.class);
      }
    }
  }

  @Test
  void codecsTrustOnlyTheContractsPackage() {
    assertThat(System.getProperty(TrustedPackages.PROPERTY))
        .isEqualTo(TrustedPackages.CONTRACTS_PACKAGE);
    assertThatThrownBy(() -> TrustedPackages.verify(AvroCodecTest.class))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("-D" + TrustedPackages.PROPERTY);
  }

  // --- helpers

  interface EncoderSteps {
    void write(BinaryEncoder encoder) throws IOException;
  }

  private static byte[] withHeader(AvroCodec<?> codec, EncoderSteps steps) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0xC3, 0x01});
    out.write(
        ByteBuffer.allocate(8)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putLong(AvroCodec.fingerprint(codec.schema()))
            .array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    steps.write(encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static RecordDecodingException decodeFailure(AvroCodec<?> codec, byte[] bytes) {
    Throwable thrown = catchThrowable(() -> codec.decode(bytes));
    assertThat(thrown).isInstanceOf(RecordDecodingException.class);
    return (RecordDecodingException) thrown;
  }

  private static byte[] encodeGeneric(
      Schema schema, String series, int day, Map<String, Double> features) throws IOException {
    GenericRecord record = new GenericData.Record(schema);
    record.put("seriesId", series);
    record.put("day", day);
    record.put("features", features);
    return toArray(
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record));
  }

  private static Schema parseTestResource(String name) throws IOException {
    try (InputStream in = AvroCodecTest.class.getClassLoader().getResourceAsStream(name)) {
      return new Schema.Parser().parse(in);
    }
  }

  private static byte[] toArray(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }
}
