"""One convolutional layer in numpy, as the Convolution page teaches it:
``arithmetic`` (conv2d, pool2d, output size), ``kernels`` (preset and custom
kernels), ``explain`` (one output position written out)."""
