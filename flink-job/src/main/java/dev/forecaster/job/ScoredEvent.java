package dev.forecaster.job;

import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Reading;

/**
 * What the scorer emits, in order, on one stream: a forecast, or the newest reading of a window
 * (the actual that settles earlier forecasts). One stream keeps the order, so the evaluation never
 * sees an actual before the forecast it settles, however fast a replay runs. Exactly one field is
 * set. A Flink POJO of Avro records: no Kryo.
 */
public class ScoredEvent {
  public Forecast forecast;
  public Reading actual;

  public ScoredEvent() {}

  static ScoredEvent of(Forecast forecast) {
    ScoredEvent e = new ScoredEvent();
    e.forecast = forecast;
    return e;
  }

  static ScoredEvent of(Reading actual) {
    ScoredEvent e = new ScoredEvent();
    e.actual = actual;
    return e;
  }

  public String seriesId() {
    return forecast != null ? forecast.getSeriesId() : actual.getSeriesId();
  }
}
