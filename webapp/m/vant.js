// The few Vant components the H5 uses, imported one by one (not from the
// package root) so the bundle carries nothing else of the kit. Their CSS is
// taken without the icon and badge sheets their style entries would pull
// in: the H5 shows no icons, and the icon sheet alone is most of Vant's CSS.
import 'vant/es/style/base.css'
import 'vant/es/loading/index.css'
import 'vant/es/button/index.css'
import 'vant/es/progress/index.css'
export { Button as VanButton } from 'vant/es/button/index.mjs'
export { Progress as VanProgress } from 'vant/es/progress/index.mjs'
export { Loading as VanLoading } from 'vant/es/loading/index.mjs'
