/** Implementation details. Free to change between releases; not for use by applications. */
package io.pgbridge.internal;
