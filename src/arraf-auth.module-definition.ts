import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ArrafAuthOptions } from './options/arraf-auth-options.interface.js';

export const {
  ConfigurableModuleClass: ArrafAuthConfigurableModule,
  MODULE_OPTIONS_TOKEN: ARRAF_AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE: ARRAF_AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ARRAF_AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ArrafAuthOptions>({ moduleName: 'ArrafAuth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createArrafAuthOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
