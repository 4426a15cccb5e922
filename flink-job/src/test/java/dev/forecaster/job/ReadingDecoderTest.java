package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
            new ProcessOperator<>(new ReadingDecoder(List.of("temp_max"), 2)))) {
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

  @Test
  void aDayTooFarAheadIsADeadLetterAndTheToleranceIsKept() throws Exception {
    try (var harness =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(new ReadingDecoder(List.of(), 2)))) {
      harness.open();
      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      Reading soon =
          Reading.newBuilder(reading(Map.of("temp_max", 1.0))).setDay(today.plusDays(2)).build();
      Reading future =
          Reading.newBuilder(reading(Map.of("temp_max", 1.0)))
              .setDay(LocalDate.of(9999, 12, 31))
              .build();
      harness.processElement(new StreamRecord<>(raw(Codecs.READING.encode(soon), 1)));
      harness.processElement(new StreamRecord<>(raw(Codecs.READING.encode(future), 2)));

      assertThat(harness.extractOutputValues()).extracting(e -> e.reading).containsExactly(soon);
      DeadLetter dead = harness.getSideOutput(ReadingDecoder.DEAD_LETTERS).peek().getValue();
      assertThat(dead.getCategory()).isEqualTo("invalid");
      assertThat(dead.getReason()).startsWith("day 9999-12-31 is after");
    }
  }

  @Test
  void aValueJustUnderTheBrokersLimitBecomesADeadLetterThatFitsOnTheTopic() throws Exception {
    byte[] poison = new byte[1_048_400];
    new Random(7).nextBytes(poison);
    try (var harness =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(new ReadingDecoder(List.of(), 2)))) {
      harness.open();
      harness.processElement(new StreamRecord<>(raw(poison, 9)));

      DeadLetter dead = harness.getSideOutput(ReadingDecoder.DEAD_LETTERS).peek().getValue();
      assertThat(dead.getTruncated()).isTrue();
      assertThat(dead.getPayloadSize()).isEqualTo(poison.length);
      assertThat(dead.getPayloadSha256()).isEqualTo(ModelArtifact.sha256(poison));
      assertThat(dead.getPayload().remaining()).isEqualTo(DeadLetters.MAX_KEPT_BYTES);
      // a stock broker refuses records over 1 MiB: the dead letter is far below
      assertThat(Codecs.DEAD_LETTER.encode(dead).length).isLessThan(100 * 1024);
    }
  }
}
