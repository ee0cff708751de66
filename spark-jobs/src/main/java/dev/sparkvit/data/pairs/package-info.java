/** SimCLR positive pairs: two augmented views of each stored image, generated on the executors. */
package dev.sparkvit.data.pairs;
