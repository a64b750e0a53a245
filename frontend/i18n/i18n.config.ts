import { messageCompiler } from '../app/utils/message-compiler';

// vue-i18n options the module has no setting for (nuxt.config.ts `i18n` holds the rest).
export default defineI18nConfig(() => ({ messageCompiler }));
