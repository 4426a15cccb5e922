package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The job as its diagram: decode → watermarks → keyBy(series) → window → score (with models
 * broadcast) → forecasts; forecasts and readings → live evaluation; rejects → dead letters.
 * Sources come in and streams go out, so tests pass their own and production passes Kafka.
 */
public final class ForecastPipeline {

  /** What the job produces. */
  public record Outputs(DataStream<Forecast> forecasts, DataStream<Evaluation> evaluations,
      DataStream<DeadLetter> deadLetters, DataStream<WindowReady> windows) {}

  private ForecastPipeline() {}

  public static Outputs build(JobConfig config, DataStream<RawRecord> rawReadings, DataStream<ModelUpdate> models) {
    SingleOutputStreamOperator<ReadingEvent> readings = rawReadings
        .process(new ReadingDecoder(List.of())).name("decode readings").uid("decode-readings");

    SingleOutputStreamOperator<WindowReady> windows = readings
        .assignTimestampsAndWatermarks(WatermarkStrategy
            .<ReadingEvent>forBoundedOutOfOrderness(config.outOfOrderness())
            .withTimestampAssigner((event, previous) -> event.reading.getDay().toEpochDay() * 86_400_000L)
            .withIdleness(config.idleness()))
        .name("event time of readings").uid("reading-watermarks")
        .keyBy(event -> event.reading.getSeriesId())
        .process(new SeriesWindowFunction(config)).name("sliding window per series").uid("series-window");

    DataStream<DeadLetter> deadLetters = readings.getSideOutput(ReadingDecoder.DEAD_LETTERS)
        .union(windows.getSideOutput(SeriesWindowFunction.REJECTED));

    if (!config.scoringEnabled()) {
      return new Outputs(null, null, deadLetters, windows);
    }

    SingleOutputStreamOperator<Forecast> forecasts = windows
        .connect(models.broadcast())
        .transform("batched scoring", new AvroTypeInfo<>(Forecast.class), new BatchScoringOperator(config))
        .uid("batched-scoring");

    DataStream<Reading> actuals = forecasts.getSideOutput(BatchScoringOperator.ACTUALS);
    SingleOutputStreamOperator<Evaluation> evaluations = forecasts
        .keyBy(Forecast::getSeriesId)
        .connect(actuals.keyBy(Reading::getSeriesId))
        .process(new ForecastEvaluator(config.recentReadings(), ForecastEvaluator.DEFAULT_MAX_PENDING_DAYS),
            new AvroTypeInfo<>(Evaluation.class))
        .name("forecast vs actual").uid("evaluation");

    return new Outputs(forecasts, evaluations, deadLetters, windows);
  }

  /** Type of the raw readings a source must produce. */
  public static TypeInformation<RawRecord> rawType() {
    return TypeInformation.of(RawRecord.class);
  }
}
