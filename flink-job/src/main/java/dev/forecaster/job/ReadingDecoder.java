package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.WindowPolicy;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import dev.forecaster.schemas.TrustedPackages;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes and validates raw readings. Undecodable bytes, an unknown schema, a blank series id, no
 * features, a value that is not finite, or a missing required feature: the record goes to the dead
 * letters with its reason, and the job goes on.
 */
public final class ReadingDecoder extends ProcessFunction<RawRecord, ReadingEvent> {

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      DeadLetters.tag("undecodable-or-invalid");

  private final List<String> requiredFeatures;
  private final int maxDaysAhead;
  private transient Counter rejected;

  /** The decoder of a job's configuration ({@code readings.*}). */
  public ReadingDecoder(JobConfig config) {
    this(config.requiredFeatures(), config.maxDaysAhead());
  }

  /**
   * @param requiredFeatures features every reading must carry
   * @param maxDaysAhead days after today (UTC, the task manager's clock) a reading may be of
   */
  public ReadingDecoder(List<String> requiredFeatures, int maxDaysAhead) {
    this.requiredFeatures = List.copyOf(requiredFeatures);
    this.maxDaysAhead = maxDaysAhead;
  }

  @Override
  public void open(OpenContext context) {
    TrustedPackages.ensureContractsTrusted();
    rejected = getRuntimeContext().getMetricGroup().counter("readingsRejected");
  }

  @Override
  public void processElement(RawRecord raw, Context ctx, Collector<ReadingEvent> out) {
    Reading reading;
    try {
      reading = Codecs.READING.decode(raw.value);
    } catch (RecordDecodingException e) {
      reject(ctx, raw, "undecodable", e.reason() + ": " + e.getMessage());
      return;
    }
    String problem = problem(reading);
    if (problem != null) {
      reject(ctx, raw, "invalid", problem);
      return;
    }
    out.collect(new ReadingEvent(reading, raw.topic, raw.partition, raw.offset));
  }

  /** Why a decoded reading cannot be used, or null. */
  String problem(Reading r) {
    String invalid = WindowPolicy.problem(r, LocalDate.now(ZoneOffset.UTC), maxDaysAhead);
    if (invalid != null) {
      return invalid;
    }
    for (String required : requiredFeatures) {
      if (!r.getFeatures().containsKey(required)) {
        return "missing feature '" + required + "'";
      }
    }
    return null;
  }

  private void reject(Context ctx, RawRecord raw, String category, String reason) {
    rejected.inc();
    ctx.output(DEAD_LETTERS, DeadLetters.of(raw, category, reason));
  }
}
