package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

/**
 * PyTorch's LSTM kernel against the LSTM's equations: the build runs the tests with oneDNN capped
 * at AVX2, under which the kernel is right on every CPU; on AMD Zen 5 without the cap it is not,
 * and then this test and every LSTM test fails.
 */
class LstmKernelCheckTest {

  @Test
  void pyTorchsLstmComputesTheLstmsEquationsUnderTheCapTheBuildSets() {
    assertThat(System.getenv(LstmKernelCheck.ISA_VARIABLE)).isEqualTo(LstmKernelCheck.SAFE_ISA);
    double error = LstmKernelCheck.largestError();
    assertThat(error).isLessThan(LstmKernelCheck.TOLERANCE);
    LstmKernelCheck.verify();
  }

  @Test
  void aKernelThatMissesTheEquationsStopsEveryLstmWithWhatToSet() {
    assertThatThrownBy(() -> LstmKernelCheck.verify(0.47, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("0.47")
        .hasMessageContaining("ONEDNN_MAX_CPU_ISA=unset")
        .hasMessageContaining("ONEDNN_MAX_CPU_ISA=AVX2")
        .hasMessageContaining("--arch gru");
    LstmKernelCheck.verify(2e-7, "AVX2");
  }

  @Test
  void whereTheKernelIsWrongNoLstmIsBuiltOrLoadedAndTheMachineIsBlamedNotTheModel()
      throws Exception {
    ModelSpec lstm = TestModels.spec(Architecture.LSTM, 1);
    byte[] artifact;
    try (LoadedModel model = TestModels.randomModel(lstm)) {
      artifact = ModelArtifact.write(model);
    }
    try {
      LstmKernelCheck.assume(0.35);
      assertThatThrownBy(() -> Networks.member(lstm))
          .isInstanceOf(LstmKernelException.class)
          .hasMessageContaining("ONEDNN_MAX_CPU_ISA=AVX2");
      assertThatThrownBy(
              () -> ModelArtifact.load(artifact, ModelArtifact.sha256(artifact), Device.cpu()))
          .isExactlyInstanceOf(LstmKernelException.class);
      assertThat(Networks.member(TestModels.spec(Architecture.GRU, 1))).isNotNull();
    } finally {
      LstmKernelCheck.assume(null); // measured again by the next LSTM
    }
    try (LoadedModel loaded =
        ModelArtifact.load(artifact, ModelArtifact.sha256(artifact), Device.cpu())) {
      assertThat(loaded.spec().architecture()).isEqualTo(Architecture.LSTM);
    }
  }
}
