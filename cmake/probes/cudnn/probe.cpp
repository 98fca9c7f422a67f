#include <cudnn.h>

int main() { return cudnnGetVersion() > 0 ? 0 : 1; }
