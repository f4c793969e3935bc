"""Every layer class, one family per file; ``mg.nn`` re-exports them all."""

from ..module import Module as _Module
from .activation import (  # noqa: F401
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .attention import *  # noqa: F401,F403  MultiheadAttention
from .conv import *  # noqa: F401,F403  Conv1d Conv2d ConvTranspose2d (see its __all__)
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from .embedding import Embedding  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .linear import Bilinear, Identity, Linear  # noqa: F401
from .loss import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm  # noqa: F401
from .pooling import *  # noqa: F401,F403  MaxPool2d AvgPool2d AdaptiveAvgPool2d
from .rnn import *  # noqa: F401,F403  RNN LSTM GRU and their cells
from .transformer import *  # noqa: F401,F403  TransformerEncoderLayer TransformerEncoder

# what ``from .modules import *`` (in mg.nn) exports: the layer classes, not the file names
__all__ = sorted(n for n, v in globals().items()
                 if isinstance(v, type) and issubclass(v, _Module) and not n.startswith("_"))

# More layers, one family per file
from .activation_extra import *  # noqa: E402,F401,F403  Hardtanh ReLU6 ... Softmin Softsign
from .activation_more import *  # noqa: E402,F401,F403  PReLU SELU CELU ... Threshold RReLU
from .distance import *  # noqa: E402,F401,F403  CosineSimilarity PairwiseDistance
from .fold import *  # noqa: E402,F401,F403  Unfold Fold
from .instancenorm import *  # noqa: E402,F401,F403  InstanceNorm1d/2d/3d
from .padding import *  # noqa: E402,F401,F403  Zero/Constant/Reflection/Replication/CircularPad
from .pixelshuffle import *  # noqa: E402,F401,F403  PixelShuffle PixelUnshuffle
from .pooling_extra import *  # noqa: E402,F401,F403  MaxPool1d AvgPool1d Adaptive*Pool1d/2d
from .rmsnorm import *  # noqa: E402,F401,F403  RMSNorm
from .transformer_decoder import *  # noqa: E402,F401,F403  TransformerDecoder(Layer) Transformer
from .upsampling import *  # noqa: E402,F401,F403  Upsample UpsamplingNearest2d/Bilinear2d

__all__ = sorted(n for n, v in globals().items()
                 if isinstance(v, type) and issubclass(v, _Module) and not n.startswith("_"))

from . import module  # noqa: E402,F401  PyTorch's path to Module and the global module hooks
