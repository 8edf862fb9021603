// The RobustTraining module. See ../../shared/STYLE.md for the layout.
import Tensor
