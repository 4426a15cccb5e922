package dev.forecaster.job;

import dev.forecaster.avro.Reading;

/**
 * A decoded reading with where it came from (topic, partition, offset) for dead letters downstream.
 */
public class ReadingEvent {
  public Reading reading;
  public String topic;
  public int partition;
  public long offset;

  public ReadingEvent() {}

  public ReadingEvent(Reading reading, String topic, int partition, long offset) {
    this.reading = reading;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}
