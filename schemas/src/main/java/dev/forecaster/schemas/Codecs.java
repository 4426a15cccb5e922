package dev.forecaster.schemas;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;

/** One codec per contract, shared: codecs are thread-safe. */
public final class Codecs {

  public static final AvroCodec<Reading> READING = AvroCodec.of(Reading.class);
  public static final AvroCodec<Forecast> FORECAST = AvroCodec.of(Forecast.class);
  public static final AvroCodec<ModelUpdate> MODEL_UPDATE = AvroCodec.of(ModelUpdate.class);
  public static final AvroCodec<Evaluation> EVALUATION = AvroCodec.of(Evaluation.class);
  public static final AvroCodec<DeadLetter> DEAD_LETTER = AvroCodec.of(DeadLetter.class);

  private Codecs() {}
}
