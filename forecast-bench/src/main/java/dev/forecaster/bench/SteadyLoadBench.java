package dev.forecaster.bench;

import dev.forecaster.model.ModelSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What the benchmarks that send readings at a steady rate share: the rate, the measured seconds,
 * the series, the readings producer's linger, a warm-up at the rate before measuring, the model
 * served and job settings.
 *
 * <p>The warm-up is not a fixed time from the first reading sent: the job starts, loads its model
 * and runs its first minute on code not yet compiled while readings arrive at the rate, and on the
 * 2-core VM with the preset's model at 5,000/s that leaves a backlog, and stalls of seconds, until
 * 40-60 s after the first reading (2.3-6.6 s of latency in the first measured second after 30 s).
 * That is the start's, not the job's at the rate. So the warm-up lasts until the job has kept up
 * for {@code --warmup-seconds} in a row: each forecast seen made within {@link #KEPT_UP_MS} of its
 * reading's send, checked once per day of readings sent; a check that fails starts the count again.
 * What is measured after it is never filtered; a job that never keeps up fails the benchmark,
 * saying so.
 */
abstract class SteadyLoadBench {

  /** Seconds the job may take from its first reading to keeping up, beyond the warm-up. */
  static final int START_ALLOWANCE_SECONDS = 150;

  /**
   * A job keeps up while its newest forecast was made within this of its reading's send: no backlog
   * (the median at 5,000/s is about 25 ms).
   */
  static final long KEPT_UP_MS = 100;

  @Option(
      names = "--rate",
      defaultValue = "5000",
      description = "Readings per second (default: ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--seconds",
      defaultValue = "60",
      description = "Measured seconds (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Option(
      names = "--series",
      defaultValue = "1000",
      description = "Series (default: ${DEFAULT-VALUE}).")
  int series;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "30",
      description =
          "Seconds the job must keep up at the rate (each forecast made within 100 ms of its"
              + " reading's send) before measuring: the backlog of its start is worked off, the JIT"
              + " has compiled (default: ${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(
      names = "--producer-linger-ms",
      defaultValue = "5",
      description =
          "linger.ms of the readings producer; part of the measured time (default:"
              + " ${DEFAULT-VALUE}, the Kafka client's own default since 4.0; 0 sends a request"
              + " per reading, and a broker on the same machine then takes CPU from the job).")
  int producerLingerMs;

  @Mixin ModelOption modelOption;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "A job setting on top of the benchmark's; repeatable.")
  Map<String, String> settings = new LinkedHashMap<>();

  /**
   * The most days sent before measuring: the job's start, then the warm-up, at the rate, and at
   * least one full window of {@code model}.
   */
  int maxWarmDays(ModelSpec model) {
    return Math.max(
        model.readingsPerWindow(),
        (int) ((long) rate * (warmupSeconds + START_ALLOWANCE_SECONDS) / series));
  }

  /** Days sent while measuring. */
  int measuredDays() {
    return Math.max(1, (int) ((long) rate * seconds / series));
  }

  /**
   * Whether the warm-up is over: the job has kept up for {@code --warmup-seconds} in a row, the
   * newest forecast seen ({@code newestMadeAfterMs}: made that long after its reading's send,
   * {@link Long#MAX_VALUE} before the first) within {@link #KEPT_UP_MS} at every call since. Called
   * once per day of readings sent, from the sending thread.
   */
  BooleanSupplier warmedUp(LongSupplier newestMadeAfterMs) {
    long warmup = warmupSeconds * 1_000_000_000L;
    long[] keptUpSince = {0};
    return () -> {
      long now = System.nanoTime();
      if (newestMadeAfterMs.getAsLong() > KEPT_UP_MS) {
        keptUpSince[0] = 0;
        return false;
      }
      if (keptUpSince[0] == 0) {
        keptUpSince[0] = now;
      }
      return now - keptUpSince[0] >= warmup;
    };
  }

  /**
   * Sends {@code records} at the rate with this benchmark's producer linger, warm-up and measured
   * seconds ({@link LatencyBench#send}); returns the first measured day.
   */
  int sendAtRate(
      BenchBroker broker,
      List<ProducerRecord<byte[], byte[]>> records,
      ModelSpec model,
      LatencyBench.Sends sends,
      IntConsumer measuring) {
    return LatencyBench.send(
        broker,
        records,
        rate,
        producerLingerMs,
        model.readingsPerWindow(),
        warmedUp(sends::newestMadeAfterMs),
        measuredDays(),
        sends,
        measuring);
  }
}
