// The Experiments module. See ../../shared/STYLE.md for the layout.
import Tensor
import CCairo
