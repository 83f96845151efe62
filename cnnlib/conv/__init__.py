"""One convolutional layer in numpy, as the Convolution page teaches it:
``arithmetic`` (conv2d, pool2d, output size), ``kernels`` (preset and custom
kernels), ``window`` (the kernel window of one output position and the sum
behind its value), ``formulas`` (the output-size formula in LaTeX, the sum
written out) and ``layer`` (the page's one call: convolution, ReLU, pooling,
one position explained)."""
