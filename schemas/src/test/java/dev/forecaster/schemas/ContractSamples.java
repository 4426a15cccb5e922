package dev.forecaster.schemas;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.avro.ScalerStat;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/** One filled-in record of each contract. */
final class ContractSamples {

  static final LocalDate DAY = LocalDate.of(2015, 3, 16);
  static final Instant NOW = Instant.parse("2026-11-24T10:15:30.123Z");

  static Reading reading() {
    return Reading.newBuilder()
        .setSeriesId("Seattle")
        .setDay(DAY)
        .setFeatures(Map.of("temp_max", 12.8, "temp_min", 5.0, "precipitation", 0.0, "wind", 4.7))
        .setDomain("weather")
        .build();
  }

  static Forecast forecast() {
    return Forecast.newBuilder()
        .setForecastId(ForecastIds.of("Seattle", DAY, 1, "weather", 3))
        .setSeriesId("Seattle")
        .setBaseDay(DAY)
        .setTargetDay(DAY.plusDays(1))
        .setHorizon(1)
        .setTarget("temp_max")
        .setValue(13.25)
        .setModelName("weather")
        .setModelVersion(3)
        .setCreatedAt(NOW)
        .build();
  }

  static ModelUpdate modelUpdate() {
    return ModelUpdate.newBuilder()
        .setModelName("weather")
        .setVersion(3)
        .setArchitecture("gru")
        .setHyperParameters(Map.of("hidden", "32", "layers", "1"))
        .setFeatures(List.of("temp_max", "temp_min"))
        .setTarget("temp_max")
        .setTargetTransform("difference")
        .setWindowLength(6)
        .setHorizon(1)
        .setScalers(
            List.of(new ScalerStat("temp_max", 16.4, 7.2), new ScalerStat("temp_min", 8.2, 5.0)))
        .setTrainingMetrics(Map.of("loss", 0.12))
        .setBacktestMetrics(Map.of("mae", 2.05))
        .setSha256("ab".repeat(32))
        .setArtifact(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}))
        .setCreatedAt(NOW)
        .build();
  }

  static Evaluation evaluation() {
    return Evaluation.newBuilder()
        .setForecastId(ForecastIds.of("Seattle", DAY, 1, "weather", 3))
        .setSeriesId("Seattle")
        .setTargetDay(DAY.plusDays(1))
        .setTarget("temp_max")
        .setPredicted(13.25)
        .setActual(14.0)
        .setError(-0.75)
        .setPersistenceError(1.2)
        .setModelName("weather")
        .setModelVersion(3)
        .build();
  }

  static DeadLetter deadLetter() {
    return DeadLetter.newBuilder()
        .setPayload(ByteBuffer.wrap(new byte[] {(byte) 0xde, (byte) 0xad}))
        .setKey(ByteBuffer.wrap("Seattle".getBytes(StandardCharsets.UTF_8)))
        .setTopic("readings")
        .setPartition(2)
        .setOffset(4711)
        .setReason("not Avro single-object encoding")
        .setCategory("undecodable")
        .setFailedAt(NOW)
        .build();
  }

  private ContractSamples() {}
}
