package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.forecaster.avro.ModelUpdate;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ModelArtifactTest {

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void aLoadedArtifactPredictsExactlyAsTheModelItWasWrittenFrom(Architecture arch)
      throws Exception {
    List<double[][]> windows = TestModels.windows(20, 3, 1);
    List<int[]> days = TestModels.days(20, 3);
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(arch, 2));
        BatchedPredictor predictor = model.newPredictor()) {
      double[] before = TestModels.predict(model, predictor, windows, days);
      byte[] artifact = ModelArtifact.write(model);

      try (LoadedModel loaded =
              ModelArtifact.load(artifact, ModelArtifact.sha256(artifact), Device.cpu());
          BatchedPredictor again = loaded.newPredictor()) {
        assertThat(loaded.spec()).isEqualTo(model.spec());
        assertThat(TestModels.predict(loaded, again, windows, days)).containsExactly(before);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void loadingAModelDrawsNothingFromTheEnginesRandomGenerator(Architecture arch) throws Exception {
    // a training in the same JVM (the demo's round beside its job) seeds the engine's global
    // generator and draws its members' initial weights from it: loading a model in between must
    // not move it, or the training is no longer what its seed says
    byte[] artifact;
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(arch, 2))) {
      artifact = ModelArtifact.write(model);
    }
    Engine engine = DjlRuntime.engine();
    engine.setRandomSeed(17);
    float[] untouched = draw(engine);

    engine.setRandomSeed(17);
    try (LoadedModel loaded =
        ModelArtifact.load(artifact, ModelArtifact.sha256(artifact), Device.cpu())) {
      assertThat(loaded.spec().architecture()).isEqualTo(arch);
    }

    assertThat(draw(engine)).containsExactly(untouched);
  }

  private static float[] draw(Engine engine) {
    try (NDManager manager = engine.newBaseManager()) {
      return manager.randomUniform(0, 1, new Shape(16)).toFloatArray();
    }
  }

  @Test
  void theSameModelAlwaysWritesTheSameBytes() throws Exception {
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(Architecture.GRU, 1))) {
      assertThat(ModelArtifact.write(model)).isEqualTo(ModelArtifact.write(model));
    }
  }

  @Test
  void aSavedFolderLoadsBackAfterItsChecksumIsVerified() throws Exception {
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(Architecture.LSTM, 1))) {
      byte[] artifact = ModelArtifact.write(model);
      ModelArtifact.save(artifact, dir);
      try (LoadedModel loaded = ModelArtifact.load(dir, Device.cpu())) {
        assertThat(loaded.spec().version()).isEqualTo(7);
      }
    }
  }

  @Test
  void aTamperedArtifactIsRejectedBeforeItIsRead() throws Exception {
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(Architecture.GRU, 1))) {
      byte[] artifact = ModelArtifact.write(model);
      String sha = ModelArtifact.sha256(artifact);
      byte[] tampered = artifact.clone();
      tampered[tampered.length / 2] ^= 0x01;

      assertThatThrownBy(() -> ModelArtifact.load(tampered, sha, Device.cpu()))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("checksum mismatch")
          .hasMessageContaining(sha);
    }
  }

  @Test
  void weightsThatDoNotFitTheirSpecAreRejectedEvenWithAMatchingChecksum() throws Exception {
    try (LoadedModel small = TestModels.randomModel(TestModels.spec(Architecture.GRU, 1));
        LoadedModel other = TestModels.randomModel(TestModels.spec(Architecture.LSTM, 1))) {
      // the LSTM's weights under the GRU's spec: a consistent checksum, an inconsistent artifact
      byte[] forged =
          Zips.replaceEntry(
              ModelArtifact.write(small),
              ModelArtifact.PARAMETERS_ENTRY,
              Zips.entry(ModelArtifact.write(other), ModelArtifact.PARAMETERS_ENTRY));

      assertThatThrownBy(
              () -> ModelArtifact.load(forged, ModelArtifact.sha256(forged), Device.cpu()))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("do not fit");
    }
  }

  @Test
  void bytesThatAreNoArtifactAreRejectedWithAReason() {
    byte[] junk = "not a zip".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> ModelArtifact.load(junk, ModelArtifact.sha256(junk), Device.cpu()))
        .isInstanceOf(ModelArtifactException.class)
        .hasMessageContaining("has no model.json");
    assertThatThrownBy(() -> ModelArtifact.load(new byte[0], "00", Device.cpu()))
        .isInstanceOf(ModelArtifactException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void anUpdateIsLoadedOnlyWhenItsRecordDescribesItsArtifact() throws Exception {
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(Architecture.GRU, 1))) {
      ModelUpdate update = ModelUpdates.of(model.spec(), ModelArtifact.write(model));
      try (LoadedModel loaded = ModelUpdates.load(update, Device.cpu())) {
        assertThat(loaded.spec().features()).containsExactly("temp_max", "wind");
      }
      assertThat(update.getScalers())
          .extracting(s -> s.getName())
          .containsExactly("temp_max", "wind", "target:temp_max");

      ModelUpdate reordered =
          ModelUpdate.newBuilder(update).setFeatures(List.of("wind", "temp_max")).build();
      assertThatThrownBy(() -> ModelUpdates.load(reordered, Device.cpu()))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("features");

      ModelUpdate newerLabel = ModelUpdate.newBuilder(update).setVersion(8).build();
      assertThatThrownBy(() -> ModelUpdates.load(newerLabel, Device.cpu()))
          .hasMessageContaining("version (8) is not its artifact's (7)");

      ModelUpdate noArtifact =
          ModelUpdate.newBuilder(update).setArtifact((ByteBuffer) null).build();
      assertThatThrownBy(() -> ModelUpdates.load(noArtifact, Device.cpu()))
          .hasMessageContaining("no inline artifact");
    }
  }
}
