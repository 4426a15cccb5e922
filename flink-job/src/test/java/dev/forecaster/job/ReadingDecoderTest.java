package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class ReadingDecoderTest {

  private static Reading reading(Map<String, Double> features) {
    return Reading.newBuilder()
        .setSeriesId("Seattle")
        .setDay(LocalDate.of(2015, 3, 16))
        .setFeatures(features)
        .setDomain("weather")
        .build();
  }

  private static RawRecord raw(byte[] value, long offset) {
    return new RawRecord("Seattle".getBytes(StandardCharsets.UTF_8), value, "readings", 1, offset);
  }

  @Test
  void goodReadingsPassAndEveryBadOneBecomesADeadLetterWithItsPlaceAndReason() throws Exception {
    try (var harness =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(new ReadingDecoder(List.of("temp_max"))))) {
      harness.open();
      Reading good = reading(Map.of("temp_max", 12.8, "wind", 4.7));
      harness.processElement(new StreamRecord<>(raw(Codecs.READING.encode(good), 1)));
      harness.processElement(
          new StreamRecord<>(raw("garbage".getBytes(StandardCharsets.UTF_8), 2)));
      harness.processElement(
          new StreamRecord<>(
              raw(
                  Codecs.READING.encode(reading(Map.of("temp_max", Double.POSITIVE_INFINITY))),
                  3)));
      harness.processElement(
          new StreamRecord<>(raw(Codecs.READING.encode(reading(Map.of("wind", 4.7))), 4)));
      harness.processElement(new StreamRecord<>(raw(null, 5)));

      assertThat(harness.extractOutputValues()).extracting(e -> e.reading).containsExactly(good);
      assertThat(harness.extractOutputValues().get(0).offset).isEqualTo(1);
      List<DeadLetter> dead =
          harness.getSideOutput(ReadingDecoder.DEAD_LETTERS).stream()
              .map(StreamRecord::getValue)
              .toList();
      assertThat(dead).extracting(DeadLetter::getOffset).containsExactly(2L, 3L, 4L, 5L);
      assertThat(dead)
          .extracting(DeadLetter::getCategory)
          .containsExactly("undecodable", "invalid", "invalid", "undecodable");
      assertThat(dead.get(0).getReason()).startsWith("BAD_HEADER");
      assertThat(dead.get(1).getReason())
          .isEqualTo("feature 'temp_max' is not a finite number: Infinity");
      assertThat(dead.get(2).getReason()).isEqualTo("missing feature 'temp_max'");
      assertThat(dead.get(0).getPayload().array())
          .isEqualTo("garbage".getBytes(StandardCharsets.UTF_8));
      assertThat(dead.get(0).getTopic()).isEqualTo("readings");
      assertThat(dead.get(0).getPartition()).isEqualTo(1);
    }
  }
}
