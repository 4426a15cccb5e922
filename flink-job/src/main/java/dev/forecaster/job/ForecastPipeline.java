package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The job as its diagram: decode → keyBy(series) → window → score (with models broadcast) →
 * forecasts; forecasts and readings → live evaluation; rejects → dead letters. Sources come in and
 * streams go out, so tests pass their own and production passes Kafka.
 *
 * <p>No operator uses event time. Each series runs on its own calendar (a ticker's trading days, a
 * backfill of old days beside live ones, two files of different years replayed together), so a
 * watermark common to all series would judge one series by another's days. Every rule is the
 * series' own readings (the window's order, the evaluator's reach) or processing time (the state
 * TTL that clears a quiet series).
 */
public final class ForecastPipeline {

  /** What the job produces. */
  public record Outputs(
      DataStream<Forecast> forecasts,
      DataStream<Evaluation> evaluations,
      DataStream<DeadLetter> deadLetters) {}

  private ForecastPipeline() {}

  public static Outputs build(
      JobConfig config, DataStream<RawRecord> rawReadings, DataStream<ModelUpdate> models) {
    SingleOutputStreamOperator<ReadingEvent> readings =
        rawReadings
            .process(new ReadingDecoder(config))
            .name("decode readings")
            .uid("decode-readings");

    SingleOutputStreamOperator<WindowReady> windows =
        readings
            .keyBy(event -> event.reading.getSeriesId())
            .process(new SeriesWindowFunction(config))
            .name("sliding window per series")
            .uid("series-window");

    DataStream<DeadLetter> deadLetters =
        readings
            .getSideOutput(ReadingDecoder.DEAD_LETTERS)
            .union(windows.getSideOutput(SeriesWindowFunction.REJECTED));

    SingleOutputStreamOperator<ScoredEvent> scored =
        windows
            .connect(models.broadcast())
            .transform(
                "batched scoring",
                TypeInformation.of(ScoredEvent.class),
                new BatchScoringOperator(config))
            .uid("batched-scoring");

    SingleOutputStreamOperator<Forecast> forecasts =
        scored
            .filter(e -> e.forecast != null)
            .name("forecasts only")
            .uid("forecasts-only")
            .map(e -> e.forecast, new AvroTypeInfo<>(Forecast.class))
            .name("forecast")
            .uid("forecast");

    // the scorer gets each series' windows from the keyed window over a forward edge of the same
    // parallelism, so its output is still partitioned by series: the evaluator reads it as keyed
    // in place (chained, no second shuffle) instead of sending every event across the network again
    SingleOutputStreamOperator<Evaluation> evaluations =
        DataStreamUtils.reinterpretAsKeyedStream(
                scored, ScoredEvent::seriesId, TypeInformation.of(String.class))
            .process(new ForecastEvaluator(config), new AvroTypeInfo<>(Evaluation.class))
            .name("forecast vs actual")
            .uid("evaluation");

    return new Outputs(forecasts, evaluations, deadLetters);
  }
}
