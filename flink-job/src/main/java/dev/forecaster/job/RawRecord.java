package dev.forecaster.job;

/**
 * A Kafka record as it came, with where it came from, so that a record the job cannot use goes to
 * the dead letters whole. A Flink POJO (public fields, no-argument constructor): no Kryo.
 */
public class RawRecord {
  public byte[] key;
  public byte[] value;
  public String topic;
  public int partition;
  public long offset;

  public RawRecord() {}

  public RawRecord(byte[] key, byte[] value, String topic, int partition, long offset) {
    this.key = key;
    this.value = value;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}
