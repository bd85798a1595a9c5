// The few Vant components the H5 uses, with their styles, imported one by
// one (not from the package root) so the bundle carries nothing else of
// the kit.
import 'vant/es/button/style/index'
import 'vant/es/progress/style/index'
import 'vant/es/loading/style/index'
export { Button as VanButton } from 'vant/es/button/index.mjs'
export { Progress as VanProgress } from 'vant/es/progress/index.mjs'
export { Loading as VanLoading } from 'vant/es/loading/index.mjs'
